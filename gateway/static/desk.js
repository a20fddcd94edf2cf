// The service desk: finding any order of the tenant by email, name, order id or seat (this
// event's only, unless unticked), a page at a time; an order's history as a timeline; and its
// confirmation emailed again.

import { idempotencyKey, refusalWords } from "/static/api.js";
import { cell, element } from "/static/dom.js";
import * as format from "/static/format.js";

const SEARCH_PATH = "/v1/venue/orders";
const PAGE_SIZE = 20;
const KIND_WORDS = {
  order_created: "Order created",
  payment_succeeded: "Payment succeeded",
  payment_failed: "Payment failed",
  tickets_issued: "Tickets issued",
  ticket_minted: "Ticket minted",
  ticket_transferred: "Ticket transferred",
  ticket_scanned: "Ticket scanned",
  ticket_locked: "Ticket locked",
  ticket_unlocked: "Ticket unlocked",
  ticket_reissued: "Ticket reissued",
  refund: "Refund",
  notice_sent: "Notice sent",
};


function say(id, text, outcome) {
  const message = element(id);
  message.textContent = text;
  message.dataset.outcome = outcome;
}

function detailWords(details) {
  return Object.entries(details ?? {})
    .map(([key, value]) => `${key}: ${typeof value === "object" ? JSON.stringify(value) : value}`)
    .join(" · ");
}

function historyItem(entry) {
  const item = document.createElement("li");
  item.dataset.kind = entry.kind;
  const when = document.createElement("time");
  when.dateTime = entry.at;
  when.textContent = format.moment(entry.at);
  const what = document.createElement("strong");
  what.textContent = KIND_WORDS[entry.kind] ?? entry.kind;
  const who = document.createElement("span");
  who.className = "hint";
  who.textContent = entry.actor ? ` by ${entry.actor}` : "";
  const details = document.createElement("div");
  details.className = "hint";
  details.textContent = detailWords(entry.details);
  item.append(when, " ", what, who, details);
  return item;
}

export class DeskPanel {
  constructor(api, event, signal) {
    this.api = api;
    this.eventId = event.event_id;
    this.signal = signal;
    this.query = null;
    this.nextCursor = null;
    this.selected = null;
  }

  open() {
    const signal = this.signal;
    element("desk-form").addEventListener(
      "submit",
      (submitted) => {
        submitted.preventDefault();
        this.search(new FormData(submitted.target));
      },
      { signal },
    );
    element("desk-more").addEventListener("click", () => this.readPage(), { signal });
    element("desk-resend").addEventListener("click", () => this.resend(), { signal });
  }

  clear() {
    element("desk-form").reset();
    element("desk-rows").replaceChildren();
    element("desk-more").hidden = true;
    element("desk-order").hidden = true;
    say("desk-message", "", "pending");
  }

  search(form) {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    for (const name of ["q", "status"]) {
      const value = String(form.get(name) ?? "").trim();
      if (value) {
        query.set(name, value);
      }
    }
    if (form.get("this_event")) {
      query.set("event_id", this.eventId);
    }
    this.query = query;
    this.nextCursor = null;
    element("desk-rows").replaceChildren();
    element("desk-order").hidden = true;
    return this.readPage();
  }

  async readPage() {
    const query = new URLSearchParams(this.query);
    if (this.nextCursor !== null) {
      query.set("cursor", this.nextCursor);
    }
    say("desk-message", "Searching…", "pending");
    try {
      const page = await this.api.get(`${SEARCH_PATH}?${query}`, this.signal);
      element("desk-rows").append(...page.orders.map((order) => this.orderRow(order)));
      this.nextCursor = page.next_cursor;
      element("desk-more").hidden = page.next_cursor === null;
      const shown = element("desk-rows").childElementCount;
      say("desk-message", shown === 0 ? "No order matches." : `${format.count(shown)} shown.`, "done");
    } catch (error) {
      if (!this.signal.aborted) {
        say("desk-message", refusalWords(error), "refused");
      }
    }
  }

  orderRow(order) {
    const row = document.createElement("tr");
    row.dataset.orderId = order.order_id;
    const open = document.createElement("button");
    open.type = "button";
    open.className = "link";
    open.textContent = order.order_id;
    open.addEventListener("click", () => this.showOrder(order), { signal: this.signal });
    const opener = document.createElement("td");
    opener.className = "identifier";
    opener.append(open);
    row.append(
      opener,
      cell(order.email ?? "–"),
      cell(format.statusWord(order.status)),
      cell(format.money(order.total_cents, order.currency)),
      cell(format.moment(order.created_at)),
    );
    return row;
  }

  async showOrder(order) {
    this.selected = order;
    for (const row of element("desk-rows").children) {
      row.classList.toggle("selected", row.dataset.orderId === order.order_id);
    }
    element("desk-order").hidden = false;
    element("desk-order-title").textContent = `Order ${order.order_id} · ${order.email ?? "no email"}`;
    element("desk-resend").disabled = order.email === null;
    element("desk-history").replaceChildren();
    say("desk-order-message", "Reading its history…", "pending");
    try {
      const answer = await this.api.get(`${SEARCH_PATH}/${order.order_id}/history`, this.signal);
      if (this.selected !== order) {
        return;
      }
      element("desk-history").replaceChildren(...answer.history.map(historyItem));
      say("desk-order-message", "", "done");
    } catch (error) {
      if (!this.signal.aborted) {
        say("desk-order-message", refusalWords(error), "refused");
      }
    }
  }

  async resend() {
    const order = this.selected;
    const button = element("desk-resend");
    button.disabled = true;
    say("desk-order-message", "Sending…", "pending");
    try {
      const path = `${SEARCH_PATH}/${order.order_id}/resend`;
      const answer = await this.api.postOnce(path, {}, idempotencyKey());
      say("desk-order-message", `Confirmation sent again to ${answer.email}.`, "done");
    } catch (error) {
      say("desk-order-message", refusalWords(error), "refused");
    } finally {
      button.disabled = false;
    }
  }
}
