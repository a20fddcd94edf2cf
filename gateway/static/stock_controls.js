// The event's stock controls: seats blocked or unblocked, general units withheld or released,
// capacity added and a price set, each posted to the event's inventory with its own
// Idempotency-Key; the answer (the ticket type's figures) or the refusal is shown as it comes.

import { idempotencyKey, refusalWords } from "/static/api.js";
import { element } from "/static/dom.js";
import * as format from "/static/format.js";

const CONTROL_BUTTONS = {
  "stock-block": "block",
  "stock-unblock": "unblock",
  "stock-withhold": "withhold",
  "stock-release": "release",
  "stock-add-capacity": "add_capacity",
  "stock-price": "price",
};
const DONE_WORDS = {
  block: "Seats blocked",
  unblock: "Seats unblocked",
  withhold: "Withheld",
  release: "Released",
  add_capacity: "Capacity added",
  price: "Price changed",
};


// Seat ids as the seat map names them (`101-A-7`), split on commas or spaces.
function seatIds(text) {
  return text.split(/[\s,]+/).filter((seat) => seat.length > 0);
}

// A price typed in the currency's major units, as its minor units (cents for USD).
function minorUnits(text, currency) {
  const digits = new Intl.NumberFormat(undefined, { style: "currency", currency }).resolvedOptions()
    .maximumFractionDigits;
  return Math.round(Number(text) * 10 ** digits);
}

function figureWords(figures, currency) {
  return (
    `${figures.key}: ${format.count(figures.sold)} sold · ${format.count(figures.held)} held · ` +
    `${format.count(figures.blocked)} blocked · ${format.count(figures.available)} available ` +
    `of ${format.count(figures.capacity)} at ${format.money(figures.price_cents, currency)}`
  );
}

export class StockControls {
  constructor(api, event, signal) {
    this.api = api;
    this.event = event;
    this.path = `/v1/venue/events/${event.event_id}/inventory`;
    this.signal = signal;
  }

  open() {
    const types = this.event.ticket_types.map((type) => {
      const option = document.createElement("option");
      option.value = type.id;
      option.textContent = `${type.key} · ${type.name}`;
      return option;
    });
    element("stock-ticket-type").replaceChildren(...types);
    for (const [id, control] of Object.entries(CONTROL_BUTTONS)) {
      element(id).addEventListener("click", () => this.send(control), { signal: this.signal });
    }
  }

  clear() {
    element("stock-form").reset();
    this.say("", "pending");
  }

  say(text, outcome) {
    const message = element("stock-message");
    message.textContent = text;
    message.dataset.outcome = outcome;
  }

  body(control) {
    const ticketTypeId = element("stock-ticket-type").value;
    const quantity = Number(element("stock-quantity").value);
    switch (control) {
      case "block":
      case "unblock":
        return { seats: seatIds(element("stock-seats").value) };
      case "price":
        return {
          ticket_type_id: ticketTypeId,
          price_cents: minorUnits(element("stock-price-value").value, this.event.currency),
        };
      default:
        return { ticket_type_id: ticketTypeId, quantity };
    }
  }

  async send(control) {
    const buttons = Object.keys(CONTROL_BUTTONS).map(element);
    for (const button of buttons) {
      button.disabled = true;
    }
    this.say("Sending…", "pending");
    try {
      const figures = await this.api.postOnce(this.path, { [control]: this.body(control) }, idempotencyKey());
      this.say(`${DONE_WORDS[control]}. ${figureWords(figures, this.event.currency)}`, "done");
    } catch (error) {
      this.say(refusalWords(error), "refused");
    } finally {
      for (const button of buttons) {
        button.disabled = false;
      }
    }
  }
}
