// The event's failed work: mints, NFT moves and notices that ran out of their quick retries. The
// service retries each until it lands; the panel lists them and retries one at once on request.

import { ApiError } from "/static/api.js";
import { cell, element } from "/static/dom.js";
import * as format from "/static/format.js";

const KIND_WORDS = { mint: "NFT mint", transfer: "NFT move", notice: "Notice", other: "Other" };
// A listing is read at most this often, and only while the stats count failed mints or the
// panel still shows work.
const REFRESH_INTERVAL_MS = 5000;


export class FailedWorkPanel {
  constructor(api, eventId, signal) {
    this.api = api;
    this.path = `/v1/venue/events/${eventId}/failed-work`;
    this.signal = signal;
    this.shown = 0;
    this.readAtMs = 0;
    this.reading = false;
  }

  clear() {
    element("failed-work-rows").replaceChildren();
    element("failed-work-message").textContent = "";
    element("failed-work-panel").hidden = true;
    this.shown = 0;
  }

  // Called with each stats message; reads the listing when it may have changed.
  follow(stats) {
    const due = Date.now() - this.readAtMs >= REFRESH_INTERVAL_MS;
    if (due && !this.reading && (stats.mints.failed > 0 || this.shown > 0)) {
      this.refresh();
    }
  }

  async refresh() {
    this.reading = true;
    this.readAtMs = Date.now();
    try {
      const listing = await this.api.get(this.path, this.signal);
      this.show(listing.failed_work);
    } catch (error) {
      if (!this.signal.aborted) {
        this.say(`The failed work could not be read: ${error.message}`);
      }
    } finally {
      this.reading = false;
    }
  }

  show(works) {
    this.shown = works.length;
    element("failed-work-panel").hidden = works.length === 0;
    element("failed-work-rows").replaceChildren(...works.map((work) => this.row(work)));
  }

  row(work) {
    const row = document.createElement("tr");
    row.dataset.workId = work.id;
    const retry = document.createElement("button");
    retry.type = "button";
    retry.textContent = "Retry now";
    retry.addEventListener("click", () => this.retry(work, retry), { signal: this.signal });
    const action = document.createElement("td");
    action.append(retry);
    row.append(
      cell(KIND_WORDS[work.kind] ?? work.kind),
      cell(work.ticket_id ?? work.order_id ?? "–", "identifier"),
      cell(format.count(work.attempts)),
      cell(work.last_error ?? "", "error-text"),
      cell(work.next_attempt_at ? format.clockTime(work.next_attempt_at) : "–"),
      action,
    );
    return row;
  }

  async retry(work, button) {
    button.setAttribute("aria-busy", "true");
    try {
      await this.api.post(`/v1/venue/failed-work/${work.id}/retry`);
      this.say(`Retrying now: ${KIND_WORDS[work.kind] ?? work.kind} ${work.ticket_id ?? work.order_id ?? ""}`);
      this.readAtMs = 0;
    } catch (error) {
      this.say(
        error instanceof ApiError
          ? `Refused (${error.code}): ${error.message}`
          : "The server did not answer; try again.",
      );
    } finally {
      button.removeAttribute("aria-busy");
    }
  }

  say(text) {
    element("failed-work-message").textContent = text;
  }
}
