// The event's CSV exports and its balance. A download must carry the bearer token, so each
// export is fetched, kept as a Blob and saved through a temporary link, under the file name the
// server gives it.

import { refusalWords } from "/static/api.js";
import { element } from "/static/dom.js";
import * as format from "/static/format.js";

const EXPORTS = ["orders", "attendees", "scans", "ledger"];
const FILE_NAME = /filename="([^"]+)"/;
const BALANCE_FIGURES = [
  ["gross_cents", "balance-gross"],
  ["refunds_cents", "balance-refunds"],
  ["net_cents", "balance-net"],
  ["fees_cents", "balance-fees"],
];


function say(text, outcome) {
  const message = element("exports-message");
  message.textContent = text;
  message.dataset.outcome = outcome;
}

function save(blob, fileName) {
  const address = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = address;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(address), 0);
}

export class ExportsPanel {
  constructor(api, event, signal) {
    this.api = api;
    this.event = event;
    this.path = `/v1/venue/events/${event.event_id}`;
    this.signal = signal;
    this.balanceOf = null;
  }

  open() {
    for (const kind of EXPORTS) {
      element(`export-${kind}`).addEventListener("click", () => this.download(kind), {
        signal: this.signal,
      });
    }
    element("balance-refresh").addEventListener("click", () => this.readBalance(), {
      signal: this.signal,
    });
  }

  clear() {
    for (const [, id] of BALANCE_FIGURES) {
      element(id).textContent = "–";
    }
    say("", "pending");
  }

  // Called with each stats message: the balance is read again when sales or refunds changed.
  follow(stats) {
    const moved = `${stats.revenue_cents}/${stats.orders.refunded}`;
    if (moved !== this.balanceOf) {
      this.balanceOf = moved;
      this.readBalance();
    }
  }

  async download(kind) {
    say(`Preparing ${kind}.csv…`, "pending");
    try {
      const response = await this.api.open(`${this.path}/exports/${kind}.csv`, this.signal);
      const named = FILE_NAME.exec(response.headers.get("Content-Disposition") ?? "");
      const fileName = named ? named[1] : `${this.event.event_id}-${kind}.csv`;
      const blob = await response.blob();
      save(blob, fileName);
      say(`Saved ${fileName}.`, "done");
    } catch (error) {
      if (!this.signal.aborted) {
        say(refusalWords(error), "refused");
      }
    }
  }

  async readBalance() {
    try {
      const query = new URLSearchParams({ event_id: this.event.event_id });
      const answer = await this.api.get(`/v1/venue/balance?${query}`, this.signal);
      const balance = answer.events.find((entry) => entry.event_id === this.event.event_id);
      for (const [field, id] of BALANCE_FIGURES) {
        const value = balance ? balance[field] : 0;
        element(id).textContent = format.money(value, balance?.currency ?? this.event.currency);
      }
    } catch (error) {
      if (!this.signal.aborted) {
        say(`The balance could not be read: ${refusalWords(error)}`, "refused");
      }
    }
  }
}
