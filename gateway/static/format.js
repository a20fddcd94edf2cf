// How the dashboard writes numbers, money, times and statuses, in the browser's own locale.

const STATUS_WORDS = {
  scheduled: "scheduled",
  on_sale: "on sale",
  paused: "paused",
  sold_out: "sold out",
  closed: "closed",
  cancelled: "cancelled",
};

export function count(value) {
  return value.toLocaleString();
}

export function rate(value) {
  return value.toLocaleString(undefined, { maximumFractionDigits: 1 });
}

// Amounts are in the currency's minor units: cents for USD, whole yen for JPY.
export function money(minorUnits, currency) {
  const formatter = new Intl.NumberFormat(undefined, { style: "currency", currency });
  return formatter.format(minorUnits / 10 ** formatter.resolvedOptions().maximumFractionDigits);
}

export function moment(text) {
  return new Date(text).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function clockTime(text) {
  return new Date(text).toLocaleTimeString();
}

export function statusWord(status) {
  return STATUS_WORDS[status] ?? status;
}
