// The recent past of one sale, kept from the stats the feed delivers: tickets sold per second
// and fans waiting in the queue, over the last few minutes, for the charts. The span shown grows
// a minute at a time from the first sample, so a sale watched for a minute fills its charts.

const MINUTE_MS = 60 * 1000;
const HISTORY_WINDOW_MS = 5 * MINUTE_MS;

export class SaleHistory {
  constructor() {
    this.salesPerSecond = [];
    this.queueLength = [];
    this.previous = null;
    this.firstAtMs = null;
  }

  record(stats) {
    const atMs = Date.parse(stats.as_of);
    if (this.previous !== null && atMs <= this.previous.atMs) {
      return;
    }
    if (this.previous !== null) {
      const elapsedS = (atMs - this.previous.atMs) / 1000;
      const sold = Math.max(0, stats.sold - this.previous.sold);
      this.salesPerSecond.push({ atMs, value: sold / elapsedS });
    }
    this.firstAtMs ??= atMs;
    this.queueLength.push({ atMs, value: stats.queue.waiting + stats.queue.pre_queue });
    this.previous = { atMs, sold: stats.sold };
    this.forgetBefore(atMs - HISTORY_WINDOW_MS);
  }

  latestAtMs() {
    return this.previous === null ? null : this.previous.atMs;
  }

  windowMs() {
    const watchedMs = this.latestAtMs() - this.firstAtMs;
    return Math.min(HISTORY_WINDOW_MS, MINUTE_MS * Math.max(1, Math.ceil(watchedMs / MINUTE_MS)));
  }

  latestSalesPerSecond() {
    const latest = this.salesPerSecond.at(-1);
    return latest === undefined ? null : latest.value;
  }

  forgetBefore(atMs) {
    for (const series of [this.salesPerSecond, this.queueLength]) {
      while (series.length > 0 && series[0].atMs < atMs) {
        series.shift();
      }
    }
  }
}
