// The event's codes: each presale or discount code with its uses (kept by paid orders) and held
// (taken by live holds) against its cap, a form to add one, and a button to stop a code's new uses.

import { ApiError } from "/static/api.js";
import { cell, element } from "/static/dom.js";
import * as format from "/static/format.js";

// The listing is read when the event opens, after a change, and at most this often while open.
const REFRESH_INTERVAL_MS = 5000;
const KIND_WORDS = { presale: "Presale", discount: "Discount" };


function refusalWords(error) {
  return error instanceof ApiError
    ? `Refused (${error.code}): ${error.message}`
    : "The server did not answer; try again.";
}

function discountWords(discount, currency) {
  if (!discount) {
    return "–";
  }
  if (discount.percent !== undefined && discount.percent !== null) {
    return `${discount.percent} % off`;
  }
  return `${format.money(discount.amount_cents, currency)} off`;
}

export class CodesPanel {
  constructor(api, event, signal) {
    this.api = api;
    this.currency = event.currency;
    this.typeKeys = new Map(event.ticket_types.map((type) => [type.id, type.key]));
    this.path = `/v1/venue/events/${event.event_id}/codes`;
    this.signal = signal;
    this.readAtMs = 0;
    this.reading = false;
  }

  open() {
    element("code-form").addEventListener(
      "submit",
      (submitted) => {
        submitted.preventDefault();
        this.add(new FormData(submitted.target));
      },
      { signal: this.signal },
    );
    this.refresh();
  }

  clear() {
    element("code-rows").replaceChildren();
    element("code-message").textContent = "";
    element("code-form").reset();
  }

  // Called with each stats message: the uses change as the sale goes.
  follow() {
    if (!this.reading && Date.now() - this.readAtMs >= REFRESH_INTERVAL_MS) {
      this.refresh();
    }
  }

  async refresh() {
    this.reading = true;
    this.readAtMs = Date.now();
    try {
      const listing = await this.api.get(this.path, this.signal);
      this.show(listing.codes);
    } catch (error) {
      if (!this.signal.aborted) {
        this.say(`The codes could not be read: ${error.message}`);
      }
    } finally {
      this.reading = false;
    }
  }

  show(codes) {
    element("code-rows").replaceChildren(...codes.map((code) => this.row(code)));
    element("code-empty").hidden = codes.length > 0;
  }

  row(code) {
    const row = document.createElement("tr");
    row.dataset.code = code.code;
    const action = document.createElement("td");
    if (code.active) {
      const stop = document.createElement("button");
      stop.type = "button";
      stop.className = "quiet";
      stop.textContent = "Deactivate";
      stop.addEventListener("click", () => this.deactivate(code, stop), { signal: this.signal });
      action.append(stop);
    } else {
      action.textContent = "inactive";
    }
    const unlocks = (code.unlocks ?? []).map((id) => this.typeKeys.get(id) ?? id).join(", ");
    row.append(
      cell(code.code, "identifier"),
      cell(KIND_WORDS[code.kind] ?? code.kind),
      cell(unlocks || "–"),
      cell(discountWords(code.discount, this.currency)),
      cell(format.count(code.uses)),
      cell(format.count(code.held)),
      cell(code.max_uses === null || code.max_uses === undefined ? "no cap" : format.count(code.max_uses)),
      action,
    );
    return row;
  }

  async add(form) {
    const body = { code: form.get("code").trim(), kind: form.get("kind") };
    if (body.kind === "presale") {
      // A presale code opens the sale to its fans from its start: from now, when added here.
      body.valid_from = new Date().toISOString();
    }
    const maxUses = form.get("max_uses");
    if (maxUses) {
      body.max_uses = Number(maxUses);
    }
    const percent = form.get("percent");
    if (percent) {
      body.discount = { percent: Number(percent) };
    }
    try {
      await this.api.post(this.path, body);
      this.say(`Code ${body.code} added.`);
      element("code-form").reset();
      this.refresh();
    } catch (error) {
      this.say(refusalWords(error));
    }
  }

  async deactivate(code, button) {
    button.setAttribute("aria-busy", "true");
    try {
      await this.api.patch(`${this.path}/${code.code_id}`, { active: false });
      this.say(`Code ${code.code} takes no new uses.`);
      this.refresh();
    } catch (error) {
      this.say(refusalWords(error));
    } finally {
      button.removeAttribute("aria-busy");
    }
  }

  say(text) {
    element("code-message").textContent = text;
  }
}
