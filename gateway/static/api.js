// The on-sale HTTP API as the dashboard calls it: a bearer token on every request, JSON both
// ways, and every refusal turned into an ApiError carrying API.md's error code.

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

  async function send(method, path, body, signal) {
    const headers = body === undefined ? authorization : { ...authorization, "Content-Type": "application/json" };
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
    async open(path, signal) {
      return send("GET", path, undefined, signal);
    },
  };
}
