// A cancelled event's refunds, as a progress bar and a line under the figures: how many of its
// paid orders are refunded so far, and how many Stripe refused.

import { element } from "/static/dom.js";
import * as format from "/static/format.js";

export function showRefundProgress(status, refunds) {
  const panel = element("refund-progress");
  panel.hidden = status !== "cancelled";
  if (panel.hidden) {
    return;
  }
  const total = refunds.pending + refunds.refunded + refunds.failed;
  const bar = element("refund-bar");
  bar.max = Math.max(total, 1);
  bar.value = refunds.refunded;
  element("refund-line").textContent =
    `${format.count(refunds.refunded)} of ${format.count(total)} orders refunded · ` +
    `${format.count(refunds.pending)} pending · ${format.count(refunds.failed)} failed`;
}
