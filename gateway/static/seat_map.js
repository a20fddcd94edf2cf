// The seat map of a seated event, one canvas per section, one dot per seat coloured by whether
// it can still be bought. Seats shrink to fit the widest row, so large maps still draw at once.

const SEAT_PITCH_MAX = 20;
const SEAT_PITCH_MIN = 3;
const ROW_LABEL_WIDTH = 28;
const COLORS = { available: "#16a34a", unavailable: "#d1d5db" };
const LABEL_COLOR = "#6b7280";

function drawSection(canvas, section, width) {
  const widestRow = Math.max(...section.rows.map((row) => row.seats.length));
  const pitch = Math.max(SEAT_PITCH_MIN, Math.min(SEAT_PITCH_MAX, (width - ROW_LABEL_WIDTH) / widestRow));
  const height = section.rows.length * pitch + 4;
  const ratio = window.devicePixelRatio || 1;
  canvas.style.width = `${ROW_LABEL_WIDTH + widestRow * pitch}px`;
  canvas.style.height = `${height}px`;
  canvas.width = Math.round((ROW_LABEL_WIDTH + widestRow * pitch) * ratio);
  canvas.height = Math.round(height * ratio);
  const context = canvas.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.font = `${Math.min(11, pitch)}px system-ui, sans-serif`;
  context.textBaseline = "middle";
  const radius = Math.max(1, pitch / 2 - 1.5);
  section.rows.forEach((row, rowIndex) => {
    const y = 2 + rowIndex * pitch + pitch / 2;
    context.fillStyle = LABEL_COLOR;
    context.fillText(row.id, 2, y);
    row.seats.forEach((seat, seatIndex) => {
      context.fillStyle = COLORS[seat.status];
      context.beginPath();
      context.arc(ROW_LABEL_WIDTH + seatIndex * pitch + pitch / 2, y, radius, 0, 2 * Math.PI);
      context.fill();
    });
  });
}

function availableSeatsOf(section) {
  let available = 0;
  for (const row of section.rows) {
    available += row.seats.filter((seat) => seat.status === "available").length;
  }
  return available;
}

// Draws every section into `container` and answers how many seats are available in all.
export function drawSeatMap(container, seatmap, ticketTypeNames) {
  container.replaceChildren();
  let availableInAll = 0;
  for (const section of seatmap.sections) {
    const seats = section.rows.reduce((count, row) => count + row.seats.length, 0);
    const available = availableSeatsOf(section);
    availableInAll += available;
    const figure = document.createElement("figure");
    figure.className = "section";
    figure.dataset.section = section.id;
    const caption = document.createElement("figcaption");
    const name = ticketTypeNames.get(section.ticket_type_id) ?? "";
    caption.textContent = `Section ${section.id} · ${name} · ${available} of ${seats} available`;
    const canvas = document.createElement("canvas");
    figure.append(caption, canvas);
    container.append(figure);
    drawSection(canvas, section, container.clientWidth);
  }
  return availableInAll;
}
