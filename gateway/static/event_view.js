// One event, live: its figures, inventory bars, charts, order and mint counts, failed work and
// seat map, all redrawn from each stats message; the controls that pause, resume and pace the
// sale; and the desk, stock controls, balance and exports panels.

import { ApiError } from "/static/api.js";
import { drawTimeSeries } from "/static/charts.js";
import { CodesPanel } from "/static/codes.js";
import { DeskPanel } from "/static/desk.js";
import { element } from "/static/dom.js";
import { ExportsPanel } from "/static/exports.js";
import { FailedWorkPanel } from "/static/failed_work.js";
import * as format from "/static/format.js";
import { showRefundProgress } from "/static/refund_progress.js";
import { SaleHistory } from "/static/sale_history.js";
import { drawSeatMap } from "/static/seat_map.js";
import { followStats } from "/static/stats_feed.js";
import { StockControls } from "/static/stock_controls.js";

const ORDER_ROWS = [
  ["pending_payment", "Awaiting payment"],
  ["paid", "Paid"],
  ["fulfilled", "Fulfilled"],
  ["payment_failed", "Payment failed"],
  ["expired", "Expired"],
  ["cancelled", "Cancelled"],
  ["refunded", "Refunded"],
];
const MINT_ROWS = [
  ["pending", "Backlog (pending)"],
  ["minted", "Minted"],
  ["failed", "Failed"],
];
const WAIT_LIST_ROWS = [
  ["waiting", "Waiting"],
  ["offered", "Offered (held for them)"],
  ["converted", "Bought their offer"],
  ["expired", "Let their offer expire"],
];
const FEED_WORDS = { live: "● live", polling: "● polling", offline: "● reconnecting" };
const SALES_COLOR = "#2563eb";
const QUEUE_COLOR = "#d97706";


function fillCounts(body, rows, counts, alertKey) {
  body.replaceChildren(
    ...rows.map(([key, label]) => {
      const row = document.createElement("tr");
      row.dataset.key = key;
      const name = document.createElement("th");
      name.textContent = label;
      const value = document.createElement("td");
      value.textContent = format.count(counts[key]);
      row.classList.toggle("alert", key === alertKey && counts[key] > 0);
      row.append(name, value);
      return row;
    }),
  );
}

function barSegment(kind, value, capacity) {
  const segment = document.createElement("span");
  segment.className = `segment ${kind}`;
  segment.style.width = `${capacity === 0 ? 0 : (100 * value) / capacity}%`;
  segment.title = `${kind}: ${format.count(value)}`;
  return segment;
}

function fillBars(container, byTicketType, ticketTypeNames) {
  container.replaceChildren(
    ...byTicketType.map((counts) => {
      const row = document.createElement("div");
      row.className = "bar-row";
      row.dataset.key = counts.key;
      const label = document.createElement("div");
      label.className = "bar-label";
      label.textContent = `${counts.key} · ${ticketTypeNames.get(counts.ticket_type_id) ?? ""}`;
      const bar = document.createElement("div");
      bar.className = "bar";
      bar.append(
        barSegment("sold", counts.sold, counts.capacity),
        barSegment("held", counts.held, counts.capacity),
        barSegment("blocked", counts.blocked, counts.capacity),
        barSegment("available", counts.available, counts.capacity),
      );
      const figures = document.createElement("div");
      figures.className = "bar-figures";
      figures.textContent =
        `${format.count(counts.sold)} sold · ${format.count(counts.held)} held · ` +
        (counts.blocked > 0 ? `${format.count(counts.blocked)} blocked · ` : "") +
        `${format.count(counts.available)} available of ${format.count(counts.capacity)}`;
      row.append(label, bar, figures);
      return row;
    }),
  );
}

export class EventView {
  constructor(api, event, { onRefused }) {
    this.api = api;
    this.event = event;
    this.onRefused = onRefused;
    this.path = `/v1/venue/events/${event.event_id}`;
    this.history = new SaleHistory();
    this.latest = null;
    this.ticketTypeNames = new Map(event.ticket_types.map((type) => [type.id, type.name]));
    this.seatedTypeIds = new Set(
      event.ticket_types.filter((type) => type.kind === "seated").map((type) => type.id),
    );
    this.seatsDrawnAvailable = null;
    this.seatMapLoading = false;
    this.abort = new AbortController();
    this.failedWork = new FailedWorkPanel(api, event.event_id, this.abort.signal);
    this.codes = new CodesPanel(api, event, this.abort.signal);
    this.exports = new ExportsPanel(api, event, this.abort.signal);
    this.panels = [
      this.codes,
      new DeskPanel(api, event, this.abort.signal),
      new StockControls(api, event, this.abort.signal),
      this.exports,
    ];
  }

  open() {
    const event = this.event;
    element("event-name").textContent = event.name;
    element("event-venue").textContent = event.venue_name;
    element("event-starts").textContent = format.moment(event.starts_at);
    this.clearPreviousEvent();
    this.showStatus(event.status);
    const roomEnabled = event.onsale.waiting_room.enabled;
    const rateInput = element("admit-per-second");
    rateInput.value = event.onsale.waiting_room.admit_per_second;
    for (const control of element("admission-form").elements) {
      control.disabled = !roomEnabled;
    }
    element("queue-summary").textContent = roomEnabled ? "" : "This event has no waiting room.";
    element("seat-map-panel").hidden = this.seatedTypeIds.size === 0;
    const signal = this.abort.signal;
    element("pause").addEventListener("click", () => this.changeStatus("paused"), { signal });
    element("resume").addEventListener("click", () => this.changeStatus("live"), { signal });
    element("admission-form").addEventListener(
      "submit",
      (submitted) => {
        submitted.preventDefault();
        this.changeAdmissionRate(Number(rateInput.value));
      },
      { signal },
    );
    window.addEventListener("resize", () => this.drawCharts(), { signal });
    for (const panel of this.panels) {
      panel.open();
    }
    this.stopFeed = followStats(this.api, event.event_id, {
      onStats: (stats) => this.show(stats),
      onMode: (mode) => {
        element("feed-mode").textContent = FEED_WORDS[mode];
        element("feed-mode").dataset.mode = mode;
      },
      onRefused: (error) => this.onRefused(error),
    });
  }

  clearPreviousEvent() {
    for (const figure of document.querySelectorAll(".figure span:last-child")) {
      figure.textContent = "–";
    }
    for (const id of ["ticket-type-bars", "order-counts", "mint-counts", "seat-map"]) {
      element(id).replaceChildren();
    }
    for (const id of ["feed-mode", "as-of", "control-message"]) {
      element(id).textContent = "";
    }
    this.failedWork.clear();
    for (const panel of this.panels) {
      panel.clear();
    }
    for (const id of ["sales-chart", "queue-chart"]) {
      const canvas = element(id);
      canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
    }
  }

  close() {
    this.stopFeed();
    this.abort.abort();
  }

  showStatus(status) {
    const badge = element("event-status");
    badge.textContent = format.statusWord(status);
    badge.dataset.status = status;
    element("pause").disabled = !["on_sale", "scheduled", "sold_out"].includes(status);
    element("resume").disabled = status !== "paused";
    element("admission-form").hidden = status === "cancelled";
  }

  show(stats) {
    this.latest = stats;
    this.history.record(stats);
    const currency = this.event.currency;
    this.showStatus(stats.status);
    element("as-of").textContent = `as of ${format.clockTime(stats.as_of)}`;
    element("figure-sold").textContent = format.count(stats.sold);
    element("figure-held").textContent = format.count(stats.held);
    element("figure-blocked").textContent = format.count(stats.blocked);
    element("figure-available").textContent = format.count(stats.available);
    element("figure-capacity").textContent = format.count(stats.capacity);
    element("figure-revenue").textContent = format.money(stats.revenue_cents, currency);
    const salesPerSecond = this.history.latestSalesPerSecond();
    element("figure-sales-rate").textContent =
      salesPerSecond === null ? "–" : format.rate(salesPerSecond);
    element("figure-waiting").textContent = format.count(stats.queue.waiting + stats.queue.pre_queue);
    if (this.event.onsale.waiting_room.enabled) {
      const queue = stats.queue;
      element("queue-summary").textContent =
        `${format.count(queue.waiting)} waiting · ` +
        (queue.presale_waiting ? `${format.count(queue.presale_waiting)} of them in the presale line · ` : "") +
        `${format.count(queue.pre_queue)} before opening · ` +
        (queue.sold_out ? `${format.count(queue.sold_out)} told sold out · ` : "") +
        `${format.count(queue.admitted)} admitted · admitting ${format.count(queue.admit_per_second)} a second`;
    }
    fillBars(element("ticket-type-bars"), stats.by_ticket_type, this.ticketTypeNames);
    fillCounts(element("order-counts"), ORDER_ROWS, stats.orders, "payment_failed");
    fillCounts(element("mint-counts"), MINT_ROWS, stats.mints, "failed");
    fillCounts(element("wait-list-counts"), WAIT_LIST_ROWS, stats.wait_list, null);
    showRefundProgress(stats.status, stats.refunds);
    this.failedWork.follow(stats);
    this.codes.follow();
    this.exports.follow(stats);
    this.drawCharts();
    this.refreshSeatMap(stats);
  }

  drawCharts() {
    if (this.latest === null) {
      return;
    }
    const nowMs = this.history.latestAtMs();
    const windowMs = this.history.windowMs();
    const minutes = windowMs / 60000;
    for (const span of document.querySelectorAll(".chart-span")) {
      span.textContent = minutes === 1 ? "last minute" : `last ${minutes} minutes`;
    }
    drawTimeSeries(element("sales-chart"), this.history.salesPerSecond, {
      nowMs,
      windowMs,
      color: SALES_COLOR,
      formatValue: format.rate,
    });
    drawTimeSeries(element("queue-chart"), this.history.queueLength, {
      nowMs,
      windowMs,
      color: QUEUE_COLOR,
      formatValue: format.count,
    });
  }

  // Reads the seat map again whenever the stats count other available seats than it showed.
  async refreshSeatMap(stats) {
    if (this.seatedTypeIds.size === 0 || this.seatMapLoading) {
      return;
    }
    const available = stats.by_ticket_type
      .filter((counts) => this.seatedTypeIds.has(counts.ticket_type_id))
      .reduce((sum, counts) => sum + counts.available, 0);
    if (available === this.seatsDrawnAvailable) {
      return;
    }
    this.seatMapLoading = true;
    try {
      const seatmap = await this.api.get(`/v1/events/${this.event.event_id}/seatmap`, this.abort.signal);
      this.seatsDrawnAvailable = drawSeatMap(element("seat-map"), seatmap, this.ticketTypeNames);
    } catch (error) {
      if (!this.abort.signal.aborted) {
        const message = element("control-message");
        message.dataset.outcome = "refused";
        message.textContent = `The seat map could not be read: ${error.message}`;
      }
    } finally {
      this.seatMapLoading = false;
    }
  }

  async change(body, done) {
    const message = element("control-message");
    const buttons = [element("pause"), element("resume"), ...element("admission-form").elements];
    for (const button of buttons) {
      button.setAttribute("aria-busy", "true");
    }
    message.dataset.outcome = "pending";
    message.textContent = "Sending…";
    try {
      const event = await this.api.patch(this.path, body);
      this.event = event;
      this.showStatus(event.status);
      message.dataset.outcome = "done";
      message.textContent = done(event);
    } catch (error) {
      message.dataset.outcome = "refused";
      message.textContent =
        error instanceof ApiError
          ? `Refused (${error.code}): ${error.message}`
          : "The server did not answer; check the status before trying again.";
    } finally {
      for (const button of buttons) {
        button.removeAttribute("aria-busy");
      }
    }
  }

  changeStatus(status) {
    return this.change({ status }, () => (status === "paused" ? "Sale paused." : "Sale resumed."));
  }

  changeAdmissionRate(admitPerSecond) {
    return this.change(
      { onsale: { admit_per_second: admitPerSecond } },
      (event) => `Admitting ${format.count(event.onsale.waiting_room.admit_per_second)} fans a second.`,
    );
  }
}
