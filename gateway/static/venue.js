// The venue dashboard's shell: signing in with a pasted venue token (kept for this tab only),
// the tenant's events, and which view the address names: `#/events/<id>` one event, else the list.

import { ApiError, createApi } from "/static/api.js";
import { element } from "/static/dom.js";
import { EventView } from "/static/event_view.js";
import * as format from "/static/format.js";

const TOKEN_KEY = "onsale.venue_token";
const EVENTS_PATH = "/v1/venue/events";
const EVENT_ADDRESS = /^#\/events\/([0-9a-f-]{36})$/;
const REFUSALS = {
  UNAUTHENTICATED: "That token was refused: it is malformed, badly signed or expired.",
  FORBIDDEN: "That token has no venue role (venue_manager or admin).",
};

let api = null;
let openEvent = null;
let routeNumber = 0;


function say(messageId, text, outcome = "refused") {
  const message = element(messageId);
  message.textContent = text;
  message.dataset.outcome = outcome;
}

function showOnly(sectionId) {
  for (const id of ["sign-in", "events", "event"]) {
    element(id).hidden = id !== sectionId;
  }
  element("sign-out").hidden = sectionId === "sign-in";
}

function closeEvent() {
  if (openEvent !== null) {
    openEvent.close();
    openEvent = null;
  }
}

function signOut(message = "") {
  closeEvent();
  sessionStorage.removeItem(TOKEN_KEY);
  api = null;
  say("sign-in-message", message);
  showOnly("sign-in");
}

function refusedBy(error) {
  if (error instanceof ApiError && REFUSALS[error.code]) {
    signOut(REFUSALS[error.code]);
    return true;
  }
  return false;
}

function eventRow(event) {
  const row = document.createElement("tr");
  row.dataset.eventId = event.event_id;
  const link = document.createElement("a");
  link.href = `#/events/${event.event_id}`;
  link.textContent = event.name;
  const available = event.ticket_types.reduce((sum, type) => sum + type.available, 0);
  const cells = [link, event.venue_name, format.moment(event.starts_at), format.statusWord(event.status), format.count(available)];
  row.append(
    ...cells.map((content) => {
      const cell = document.createElement("td");
      cell.append(content);
      return cell;
    }),
  );
  return row;
}

async function showEvents() {
  showOnly("events");
  say("events-message", "Loading…", "pending");
  try {
    const { events } = await api.get(EVENTS_PATH);
    element("event-rows").replaceChildren(...events.map(eventRow));
    say("events-message", events.length === 0 ? "This tenant has no events yet." : "", "pending");
  } catch (error) {
    if (!refusedBy(error)) {
      say("events-message", `The events could not be read: ${error.message}`);
    }
  }
}

async function showEvent(eventId, number) {
  try {
    const event = await api.get(`${EVENTS_PATH}/${eventId}`);
    if (number !== routeNumber) {
      return;
    }
    showOnly("event");
    openEvent = new EventView(api, event, {
      onRefused: (error) => {
        if (!refusedBy(error)) {
          location.hash = "";
        }
      },
    });
    openEvent.open();
  } catch (error) {
    if (!refusedBy(error)) {
      await showEvents();
      say("events-message", `That event could not be opened: ${error.message}`);
    }
  }
}

function route() {
  routeNumber += 1;
  closeEvent();
  if (api === null) {
    showOnly("sign-in");
    return;
  }
  const match = EVENT_ADDRESS.exec(location.hash);
  if (match) {
    showEvent(match[1], routeNumber);
  } else {
    showEvents();
  }
}

async function signIn(submitted) {
  submitted.preventDefault();
  const token = element("token").value.trim().replace(/^Bearer\s+/i, "");
  const candidate = createApi(token);
  const button = submitted.submitter;
  say("sign-in-message", "Signing in…", "pending");
  button.disabled = true;
  try {
    await candidate.get(EVENTS_PATH);
  } catch (error) {
    say("sign-in-message", REFUSALS[error.code] ?? `The server could not be reached: ${error.message}`);
    return;
  } finally {
    button.disabled = false;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  api = candidate;
  element("token").value = "";
  say("sign-in-message", "");
  route();
}

function start() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  api = token === null ? null : createApi(token);
  element("sign-in-form").addEventListener("submit", signIn);
  element("sign-out").addEventListener("click", () => signOut());
  element("back-to-events").addEventListener("click", (clicked) => {
    clicked.preventDefault();
    location.hash = "";
  });
  window.addEventListener("hashchange", route);
  route();
}

start();
