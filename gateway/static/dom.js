// The page's elements by id, and the table cells the panels fill.

export function element(id) {
  return document.getElementById(id);
}

export function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) {
    td.className = className;
  }
  return td;
}
