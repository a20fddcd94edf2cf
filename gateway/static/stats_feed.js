// The live stats of one event. The server-sent-events stream is read with fetch, since
// EventSource cannot send a bearer token; while the stream is unavailable the stats are polled
// once a second, and the stream is tried again after a while. A refusal (a bad token, another
// tenant's event) ends the feed: retrying would be refused again.

const POLL_INTERVAL_MS = 1000;
const STREAM_RETRY_MS = 10000;
const FINAL_STATUSES = new Set([401, 403, 404]);

function sleep(milliseconds, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, milliseconds);
    signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

function dataOf(message) {
  return message
    .split("\n")
    .filter((line) => line.startsWith("data:"))
    .map((line) => line.slice("data:".length).trimStart())
    .join("\n");
}

export function followStats(api, eventId, { onStats, onMode, onRefused }) {
  const path = `/v1/venue/events/${eventId}/stats`;
  const controller = new AbortController();
  const signal = controller.signal;

  async function readStream() {
    const response = await api.open(`${path}/stream`, signal);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    onMode("live");
    let buffered = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        return;
      }
      buffered += value;
      let end = buffered.indexOf("\n\n");
      while (end >= 0) {
        const data = dataOf(buffered.slice(0, end));
        buffered = buffered.slice(end + 2);
        if (data) {
          onStats(JSON.parse(data));
        }
        end = buffered.indexOf("\n\n");
      }
    }
  }

  async function pollFor(milliseconds) {
    const until = Date.now() + milliseconds;
    while (!signal.aborted && Date.now() < until) {
      try {
        onStats(await api.get(path, signal));
        onMode("polling");
      } catch (error) {
        if (signal.aborted || FINAL_STATUSES.has(error.status)) {
          throw error;
        }
        onMode("offline");
      }
      await sleep(POLL_INTERVAL_MS, signal);
    }
  }

  async function run() {
    while (!signal.aborted) {
      try {
        await readStream();
        await pollFor(POLL_INTERVAL_MS);
      } catch (error) {
        if (signal.aborted) {
          return;
        }
        if (FINAL_STATUSES.has(error.status)) {
          onRefused(error);
          return;
        }
        try {
          await pollFor(STREAM_RETRY_MS);
        } catch (pollError) {
          if (!signal.aborted) {
            onRefused(pollError);
          }
          return;
        }
      }
    }
  }

  run();
  return () => controller.abort();
}
