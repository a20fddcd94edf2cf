// The on-sale HTTP API as the dashboard calls it: a bearer token on every request, JSON both
// ways, and every refusal turned into an ApiError carrying API.md's error code. A change that
// must not happen twice is sent with an Idempotency-Key, the same one if it is sent again.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function refusal(response) {
  try {
    const body = await response.json();
    return new ApiError(response.status, body.error.code, body.error.message);
  } catch {
    return new ApiError(response.status, "UNAVAILABLE", `the server answered ${response.status}`);
  }
}

export function createApi(token) {
  const authorization = { Authorization: `Bearer ${token}` };

  async function send(method, path, body, signal, extraHeaders = {}) {
    const base = { ...authorization, ...extraHeaders };
    const headers = body === undefined ? base : { ...base, "Content-Type": "application/json" };
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    if (!response.ok) {
      throw await refusal(response);
    }
    return response;
  }

  return {
    async get(path, signal) {
      return (await send("GET", path, undefined, signal)).json();
    },
    async patch(path, body) {
      return (await send("PATCH", path, body)).json();
    },
    async post(path, body) {
      return (await send("POST", path, body)).json();
    },
    async postOnce(path, body, key) {
      return (await send("POST", path, body, undefined, { "Idempotency-Key": key })).json();
    },
    async open(path, signal) {
      return send("GET", path, undefined, signal);
    },
  };
}

// A fresh key for one change; crypto.randomUUID needs a secure context, getRandomValues does not.
export function idempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `dashboard-${Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

// What the page tells the user when a request was refused or went unanswered.
export function refusalWords(error) {
  return error instanceof ApiError
    ? `Refused (${error.code}): ${error.message}`
    : "The server did not answer; check before trying again.";
}
