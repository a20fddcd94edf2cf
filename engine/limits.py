"""Every bound of the system in one place: queues, batches, retries, timeouts, TTLs and sizes.

A limit lives here as a named constant, never as a literal in code (STYLE.md rule 5). Changing one
is a product decision: say why in the commit.
"""

# Every duration here is in milliseconds (`_MS`), the unit the engine computes in. The one exception
# is the bounds of a field the API takes in seconds (`ttl_s`, `access_ttl_s`, a token's lifetime),
# kept in the field's unit and named after it (`_S_MIN`, `_S_MAX`). A rate per second says so
# (`_PER_S`). A library that wants seconds gets `X_MS / MILLISECONDS_PER_SECOND`, converted there.
MILLISECONDS_PER_SECOND = 1_000

# Orders and holds. A general-admission hold is a count, whose cost does not grow with its
# quantity, so one may take far more units than a hold of seats, each of which is found and marked.
ITEMS_PER_HOLD_MAX = 20
UNITS_PER_GENERAL_HOLD_MAX = 1_000
SEATS_PER_HOLD_MAX = 50

# Codes (presale and discount). A generated batch is decided, persisted and answered in one go.
CODE_CHARACTERS_MAX = 64
CODE_PREFIX_CHARACTERS_MAX = 32
CODES_GENERATED_PER_REQUEST_MAX = 10_000
CODES_PER_EVENT_MAX = 100_000
CODES_LISTED_PER_PAGE_MAX = 1_000
CODES_LISTED_PER_PAGE_DEFAULT = 100
# A code's key in UTF-8, base64url: 64 characters of up to 4 bytes each, 4 characters per 3 bytes.
CODE_CURSOR_CHARACTERS_MAX = 344
CODE_USES_MAX = 1_000_000
CODE_DISCOUNT_PERCENT_MAX = 100

# Events
TICKET_TYPES_PER_EVENT_MAX = 100
SEATS_PER_EVENT_MAX = 200_000
CAPACITY_PER_TICKET_TYPE_MAX = 1_000_000
# A ticket type's price phases, few enough to walk on every hold decision.
PRICE_PHASES_PER_TICKET_TYPE_MAX = 10
PRICE_CENTS_MAX = 100_000_000
HOLD_TTL_S_MIN = 30
HOLD_TTL_S_MAX = 3_600
ACCESSIBLE_RELEASE_H_MAX = 8_760  # accessible seats go on general sale a year ahead at most

# Inventory
SECTIONS_PER_EVENT_MAX = 1_000
ROWS_PER_SECTION_MAX = 500
SEATS_PER_ROW_MAX = 250
SEATS_PER_VENUE_COMMAND_MAX = 5_000
TICKETS_PER_COMP_ORDER_MAX = 200
TICKETS_PER_USER_MAX = 10_000  # the highest per-fan limit a venue may set; it may set none
CHECKOUT_WINDOW_MS = 900_000
HOLD_EXTENSIONS_MAX = 1
HOLDS_EXPIRED_PER_COMMAND_MAX = 5_000
BEST_AVAILABLE_ROWS_EXAMINED_MAX = 64
IDEMPOTENCY_KEY_CHARACTERS_MAX = 255
IDEMPOTENCY_KEY_TTL_MS = 86_400_000
IDEMPOTENCY_KEYS_FORGOTTEN_PER_COMMAND_MAX = 5_000

# The wait list: a fan's entry asks for a few tickets, and an offer is a hold of them that keeps
# at least a minute (time to read the email) and at most an hour (stock kept off the sale).
WAIT_LIST_QUANTITY_MAX = 4
OFFER_TTL_S_MIN = 60
OFFER_TTL_S_MAX = 3_600
OFFER_TTL_S_DEFAULT = 600
# Entries are kept for the event's life (one per fan), so the list is bounded like a queue.
WAIT_LIST_ENTRIES_PER_EVENT_MAX = 100_000

# Authentication
BEARER_TOKEN_CHARACTERS_MAX = 4_096
# A fan is known as "<tenant uuid>/<user id>", which must fit the 255 characters of a fan id.
USER_ID_CHARACTERS_MAX = 200
TOKEN_CLOCK_LEEWAY_MS = 30_000
TOKEN_TTL_S_MAX = 86_400
# The longest a token may stay valid, from now to its `exp` (and from its `iat`, when it has one):
# a token that never expires is a credential that can never be taken back. The default of
# ONSALE_TOKEN_LIFETIME_MAX_S.
TOKEN_LIFETIME_S_MAX = 604_800
JWT_SECRET_BYTES_MIN = 32
RSA_KEY_BITS_MIN = 2_048

# Waiting room
WAITING_ROOM_FANS_MAX = 2_000_000
FAN_ID_CHARACTERS_MAX = 255
FANS_PER_JOIN_COMMAND_MAX = 10_000
FANS_PER_POLL_COMMAND_MAX = 10_000
FANS_PER_END_ACCESS_COMMAND_MAX = 10_000
ADMIT_PER_SECOND_MIN = 1
ADMIT_PER_SECOND_MAX = 100_000
MAX_ACTIVE_SHOPPERS_MIN = 1
MAX_ACTIVE_SHOPPERS_MAX = 1_000_000
ACCESS_TTL_S_MIN = 60
ACCESS_TTL_S_MAX = 7_200
ADMISSION_BURST_MS = 1_000
PLACES_PASSED_PER_ADMISSION_MAX = 20_000
ACCESSES_EXPIRED_PER_COMMAND_MAX = 20_000
PLACE_ABANDONED_AFTER_MS = 120_000
ACCESS_TOKEN_CHARACTERS_MAX = 2_048
ACCESS_TOKEN_SECRET_BYTES_MIN = 32

# The single-writer pipeline
ACTOR_INBOX_COMMANDS_MAX = 20_000
ACTOR_BATCH_COMMANDS_MAX = 1_024
# Decisions between two turns of the actor's event loop while it decides a batch, so the reply
# of the commit in flight is taken as soon as it arrives, not after the whole batch is decided.
ACTOR_DECISIONS_BETWEEN_TURNS = 32
EXPIRY_SWEEP_INTERVAL_MS = 500
ACTOR_REBUILD_RETRY_INTERVAL_MS = 500
CLIENT_PENDING_COMMANDS_MAX = 20_000
CLIENT_BATCH_COMMANDS_MAX = 512
# Two: the actor decides one batch while Postgres commits the other; a third would only wait.
CLIENT_BATCHES_IN_FLIGHT_MAX = 2
CLIENT_ACTOR_ATTEMPTS_MAX = 40
# An event's actors live while it is busy: an instance idle this long with no live hold (no fan
# waiting, for a room) retires and starts again on demand (a rebuild: B4). A tenant has at most so
# many events with live actors, and a node hosts at most so many per-event actors (each takes one
# of the node's slots), so no venue and no crowd of touched events can fill a node's memory.
ACTOR_IDLE_RETIRE_MS = 120_000
LIVE_EVENTS_PER_TENANT_MAX = 50
EVENT_ACTORS_PER_NODE_MAX = 200
CLIENT_RETRY_BACKOFF_MS = 250
# A request's calls to an actor stop at its deadline (see "Requests"). CLIENT_CALL_TIMEOUT_MS bounds
# each call whatever the time left, and with CLIENT_ACTOR_ATTEMPTS_MAX the retries of a caller that
# has no deadline (the Supervisor's).
CLIENT_CALL_TIMEOUT_MS = 15_000
# A read waits this long for a running actor's figures, then takes Postgres's.
CLIENT_SNAPSHOT_TIMEOUT_MS = 2_000
OUTBOX_POLL_INTERVAL_MS = 200
OUTBOX_BATCH_MESSAGES_MAX = 500
OUTBOX_ATTEMPTS_MAX = 8
OUTBOX_BACKOFF_BASE_MS = 500
OUTBOX_BACKOFF_MAX_MS = 60_000
OUTBOX_DELIVERY_TIMEOUT_MS = 30_000
OUTBOX_ERROR_CHARACTERS_MAX = 2_000
# A message out of its quick attempts is failed work, never given up: retried with a long backoff
# (doubling from the base to the cap) until it lands, and listed for its venue, a bounded page.
FAILED_WORK_BACKOFF_BASE_MS = 60_000
FAILED_WORK_BACKOFF_MAX_MS = 3_600_000
FAILED_WORK_LISTED_DEFAULT = 100
FAILED_WORK_LISTED_MAX = 500
# One tenant's outbox delivery ends within this (its consumers within OUTBOX_DELIVERY_TIMEOUT_MS),
# and a loop waits at most this long for a connection of its pool.
OUTBOX_TENANT_DELIVERY_TIMEOUT_MS = 60_000
DATABASE_ACQUIRE_TIMEOUT_MS = 5_000

# The Supervisor's watchdog: an actor or the dispatcher that has not moved for this long (work
# waiting, none done), or an actor that does not answer within its call timeout, is restarted.
# Work that waits longer than OUTBOX_BACKLOG_STALE_MS to be delivered marks the system degraded.
# The call timeout is generous: a busy actor on a machine loaded many times over its cores can
# take seconds to answer, and restarting it would only add a rebuild to the load.
ACTOR_STALLED_MAX_MS = 30_000
DISPATCHER_STALLED_MAX_MS = 30_000
WATCHDOG_CALL_TIMEOUT_MS = 20_000
OUTBOX_BACKLOG_STALE_MS = 60_000

# The waiting room's actor and its published serving state
WAITING_ROOM_TICK_INTERVAL_MS = 250
# Each tick the room asks its event's inventory what it has left (`engine.stock`), so a sell-out
# reaches every queued place within a tick, a call and a commit; an answer slower than this is
# skipped until the next tick.
STOCK_CALL_TIMEOUT_MS = 1_000
WAITING_ROOM_INBOX_FANS_MAX = 100_000
WAITING_ROOM_BATCH_FANS_MAX = 10_000
WAITING_ROOM_CLIENT_PENDING_FANS_MAX = 100_000
WAITING_ROOM_CLIENT_BATCH_FANS_MAX = 5_000
PLACES_PUBLISHED_PER_COMMAND_MAX = 10_000
SUPERVISOR_ROUND_INTERVAL_MS = 5_000
SUPERVISOR_RECONCILE_EVERY_ROUNDS = 12

# Payments, Stripe and refunds: engine/payment_limits.py, read here as the rest.
from engine import payment_limits  # noqa: E402
from engine.payment_limits import *  # noqa: E402, F403

CONTACT_EMAIL_CHARACTERS_MAX = 320

# Minting: each ticket's NFT is one Solana transaction, which must fit the chain's 1,232-byte
# limit, so every text it carries is cut to a byte budget. A delivery of mints finishes inside the
# dispatcher's timeout: chain calls are chunked and each is bounded on its own.
CUSTODY_SEED_CHARACTERS_MIN = 32
NFT_NAME_BYTES_MAX = 32
NFT_EVENT_BYTES_MAX = 64
NFT_TICKET_TYPE_BYTES_MAX = 32
NFT_SEAT_BYTES_MAX = 32
MINTS_PER_CHAIN_BATCH_MAX = 64
MINT_ERROR_CHARACTERS_MAX = 2_000
CHAIN_ACCOUNTS_PER_READ_MAX = 100
CHAIN_SIGNATURES_PER_STATUS_READ_MAX = 256
CHAIN_SIGNATURES_PER_ADDRESS_READ_MAX = 1_000
CHAIN_SENDS_IN_FLIGHT_MAX = 16
CHAIN_CALL_TIMEOUT_MS = 10_000
CHAIN_CONFIRMATION_TIMEOUT_MS = 20_000
CHAIN_CONFIRMATION_POLL_INTERVAL_MS = 400
LOCAL_CHAIN_JOURNAL_BYTES_MAX = 67_108_864
LOCAL_CHAIN_PAYER_LAMPORTS_MIN = 1_000_000_000
LOCAL_CHAIN_AIRDROP_LAMPORTS = 1_000_000_000_000

# Requests. Every request a fan or a venue makes is answered within its budget, with its result or
# 503 UNAVAILABLE and Retry-After: a change (a hold, a queue join, checkout, pay, a refund: every
# POST, PATCH and DELETE) within REQUEST_BUDGET_MS, a read within READ_BUDGET_MS. The budget less
# ANSWER_RESERVE_MS (kept to record or free the Idempotency-Key and send the answer) is the
# request's deadline, carried through its calls: the actor clients stop retrying at it and give
# each call the time left, and so do Stripe calls. Each of a request's Postgres statements, and
# each wait for a connection (or for a timed-out statement's cancellation), has its own bound, so
# a Postgres that stops answering is a 503 within a read's budget.
REQUEST_BUDGET_MS = 10_000
READ_BUDGET_MS = 5_000
ANSWER_RESERVE_MS = 1_000
REQUEST_STATEMENT_TIMEOUT_MS = 3_000
REQUEST_CONNECTION_WAIT_MS = 1_000
REDIS_COMMAND_TIMEOUT_MS = 2_000
# The access log: at INFO, one request in so many of each route and status class is logged (with
# the count of those skipped since the last line), so a sale's logs do not grow with its traffic;
# every 5xx is. The routes and status classes counted apart, a bounded table.
ACCESS_LOG_SAMPLED_ONE_IN = 1_000
ACCESS_LOG_SAMPLED_SERIES_MAX = 1_024

# Gateway idempotency: the durable Idempotency-Key store and its Redis fast path
IDEMPOTENCY_CALLER_CHARACTERS_MAX = 320
# A key claimed by a request is in flight until its answer is recorded or the claim's lease ends:
# the lease outlives the request's budget three times over (the request has stopped by then, and
# what it sent on carries the same key), and is what a fan waits for the key when its gateway
# died in the middle of the request.
IDEMPOTENCY_IN_FLIGHT_LEASE_MS = 30_000
IDEMPOTENCY_CLAIM_ATTEMPTS_MAX = 2
IDEMPOTENCY_KEYS_PURGED_PER_BATCH_MAX = 1_000
# An attempt that changed nothing (a 429, a 5xx, an exception) frees its key before it answers,
# waiting at most this long for Postgres (inside ANSWER_RESERVE_MS). A release Postgres does not
# take is retried in the background at this interval until it lands or the claim's lease ends; at
# most so many wait at once (past that, the lease alone frees a key).
IDEMPOTENCY_RELEASE_WAIT_MS = 500
IDEMPOTENCY_RELEASE_RETRY_INTERVAL_MS = 500
IDEMPOTENCY_RELEASES_DEFERRED_MAX = 10_000
TENANTS_REGISTERED_PER_PROCESS_MAX = 100_000
REDIS_FAST_PATH_TIMEOUT_MS = 200
REDIS_CONNECTIONS_PER_GATEWAY_MAX = 200
REDIS_CONNECTION_WAIT_MS = 2_000
REDIS_CIRCUIT_OPEN_MS = 2_000

# Gateway rate limits: token buckets in Redis. A fan polling the queue every second and placing a
# few holds stays far below the fan bucket; one address may be a carrier NAT of many fans, so its
# bucket is wider and the fan bucket is the one that stops a script.
RATE_LIMIT_FAN_BURST = 30
RATE_LIMIT_FAN_PER_S = 5
RATE_LIMIT_ADDRESS_BURST = 300
RATE_LIMIT_ADDRESS_PER_S = 60
RATE_LIMIT_IDLE_BUCKET_MARGIN_MS = 1_000
# Requests whose buckets one script call takes; more wait for the next call.
RATE_LIMIT_BATCH_REQUESTS_MAX = 256

# Gateway reads: event details cached per process, the stats board and its streams
EVENT_DETAILS_CACHE_TTL_MS = 5_000
EVENTS_CACHED_PER_PROCESS_MAX = 10_000
STATS_REFRESH_INTERVAL_MS = 1_000
STATS_STREAMS_PER_PROCESS_MAX = 1_000
VENUE_EVENTS_LISTED_MAX = 200
# Request bodies are bounded as they stream in, per route (gateway/body_limits.py): the fans'
# hot routes take a few hundred bytes, Stripe's events (STRIPE_WEBHOOK_BYTES_MAX) a few KiB, and
# every other route at most REQUEST_BODY_BYTES_MAX. A body over SMALL_BODY_BYTES_MAX, or of a
# length not declared, takes one of LARGE_BODIES_IN_FLIGHT_MAX places per gateway process while
# its request runs, so bodies never hold more than 16 x 1 MiB (twice that while one is joined).
REQUEST_BODY_BYTES_MAX = 1_048_576
HOT_ROUTE_BODY_BYTES_MAX = 65_536
SMALL_BODY_BYTES_MAX = 16_384
LARGE_BODIES_IN_FLIGHT_MAX = 16
# The moments a request may carry, in milliseconds since the Unix epoch once converted to UTC,
# whatever offset they were sent with: from the epoch (1970-01-01T00:00:00Z), where the engine's
# time starts, to the last millisecond of year 9999 (9999-12-31T23:59:59.999Z), the last a Python
# datetime holds; Postgres holds more. Anything else is a VALIDATION_ERROR naming the field.
MOMENT_MS_MIN = 0
MOMENT_MS_MAX = 253_402_300_799_999
# Metric series (route, method and status) whose handles each gateway process keeps at hand.
METRIC_SERIES_CACHED_MAX = 1_024
# How long a scrape of the private metrics port waits for each live event's figures.
METRICS_SCRAPE_TIMEOUT_MS = 5_000

# Notifications: one delivery of notices finishes well inside the dispatcher's timeout, so what
# it sent is recorded before the dispatcher gives up on it; each send is bounded on its own.
NOTIFICATION_DELIVERY_BUDGET_MS = 20_000
NOTIFICATIONS_SENT_CONCURRENTLY_MAX = 8
NOTIFICATION_ERROR_CHARACTERS_MAX = 2_000
SMTP_TIMEOUT_MS = 10_000
SMTP_SINK_MESSAGE_BYTES_MAX = 10_485_760
WEBHOOK_URL_CHARACTERS_MAX = 2_000
WEBHOOK_TIMEOUT_MS = 5_000
WEBHOOK_ATTEMPTS_PER_DELIVERY_MAX = 3
WEBHOOK_BACKOFF_BASE_MS = 200
WEBHOOK_BACKOFF_MAX_MS = 2_000
WEBHOOK_SIGNATURE_TOLERANCE_MS = 300_000

# The embedded runtime (`onsale up` without URLs). Each embedded part (Postgres, Redis, the Stripe
# API, the SMTP sink) is a child process, looked at every check interval and started again on the
# same address and data once it has died; a start that fails is tried again after a backoff that
# doubles up to its cap. A part has the start timeout to answer (Postgres may first replay its WAL
# after a crash) and the stop timeout to leave after its polite signal, before it is killed.
EMBEDDED_PART_CHECK_INTERVAL_MS = 250
EMBEDDED_PART_START_TIMEOUT_MS = 120_000
EMBEDDED_PART_STOP_TIMEOUT_MS = 30_000
EMBEDDED_PART_RESTART_BACKOFF_MAX_MS = 10_000
# The embedded Stripe journals every change before it answers; once its journal has grown past
# this, the whole store is written as a snapshot and the journal starts again empty.
STRIPE_JOURNAL_BYTES_MAX = 33_554_432

# After the sale. A QR code rotates every step, and a gate accepts one step of clock skew either
# side, so a screenshot stops working within about a minute and a half. A fan's listing reads at
# most a page from each of a bounded number of tenants; a ticket that changed hands waits out a
# cooldown before it may change hands again, and a fan gives away a bounded number a day.
TICKETS_LISTED_DEFAULT = 20
TICKETS_LISTED_MAX = 100
TENANTS_PER_TICKET_LISTING_MAX = 100
TICKET_CURSOR_CHARACTERS_MAX = 200
QR_STEP_MS = 30_000
QR_CLOCK_SKEW_STEPS = 1
QR_PAYLOAD_CHARACTERS_MAX = 200
DEVICE_ID_CHARACTERS_MAX = 100
SCAN_MANIFEST_TICKETS_DEFAULT = 1_000
SCAN_MANIFEST_TICKETS_MAX = 5_000
OFFLINE_SCANS_PER_UPLOAD_MAX = 500
# The door. A scan made offline counts only inside the event's door window: from the sale's opening
# to this long after the event ends. A gateway keeps this many tickets' public code keys (they
# never change); a scanner device's last use is written at most once per interval, so a busy gate
# costs one write every few seconds, not one per scan.
DOOR_WINDOW_AFTER_END_MS = 21_600_000
CODE_PUBLIC_KEYS_CACHED_MAX = 100_000
DEVICE_SEEN_INTERVAL_MS = 5_000
DEVICE_NAME_CHARACTERS_MAX = 100
DEVICE_EVENTS_MAX = 100
DEVICE_ZONES_MAX = 50
DEVICES_LISTED_MAX = 1_000
TRANSFER_COOLDOWN_MS = 3_600_000
TRANSFERS_PER_FAN_PER_DAY_MAX = 10
TRANSFER_LIMIT_WINDOW_MS = 86_400_000
TRANSFERS_PER_CHAIN_BATCH_MAX = 64
TRANSFER_ERROR_CHARACTERS_MAX = 2_000
CLAIM_TTL_MS = 172_800_000
EXPORT_ROWS_PER_PAGE = 500
TICKET_NOTE_CHARACTERS_MAX = 1_000
# The door's entry policy: a few zones, named like ticket type ids; a ticket that went out of a
# zone may come back after a cooldown of up to a day, a bounded number of times. Re-entry enabled
# without a maximum allows the most there is.
ZONES_PER_EVENT_MAX = 50
ZONE_ID_CHARACTERS_MAX = 64
REENTRY_COOLDOWN_S_MIN = 0
REENTRY_COOLDOWN_S_MAX = 86_400
REENTRIES_PER_ZONE_MIN = 0
REENTRIES_PER_ZONE_MAX = 100
# An offline upload replays, for each ticket it names, the ticket's scans from its earliest
# uploaded one on; a ticket with more than this many there is refused rather than replayed in part.
ENTRY_SCANS_REPLAYED_PER_TICKET_MAX = 1_000
# Unused tickets expire a day after their event ends; the Supervisor sweeps every round, a bounded
# number per tenant each time.
TICKETS_EXPIRE_AFTER_EVENT_ENDS_MS = 86_400_000
TICKETS_EXPIRED_PER_ROUND_MAX = 5_000

# A cluster's head checks each node this often and declares it dead after so many failed checks in
# a row (Ray's defaults, 3 s and 5, take about 20 s to move a dead node's events elsewhere); a
# check itself waits Ray's default 10 s, so a node merely slowed by load is not declared dead.
NODE_HEALTH_CHECK_INTERVAL_MS = 1_000
NODE_HEALTH_CHECK_FAILURES_MAX = 3

# The cluster's own actor calls, each bounded. The Supervisor gives a per-event actor this long to
# compare its memory with Postgres or to answer whether it retires; a room this long to end the
# access of fans whose order is confirmed; a gateway gives the Supervisor this long to start (it
# is asked again the next round), and the cluster this long to say whether it is ready.
SUPERVISOR_RECONCILE_TIMEOUT_MS = 5_000
SUPERVISOR_RETIRE_TIMEOUT_MS = 5_000
END_ACCESS_CALL_TIMEOUT_MS = 15_000
SUPERVISOR_START_TIMEOUT_MS = 30_000
CLUSTER_CHECK_TIMEOUT_MS = 2_000

# Limits that depend on each other, checked as the module loads: a change that breaks one of these
# relations is a bug, and no process starts with it.
assert HOLD_TTL_S_MIN < HOLD_TTL_S_MAX
assert ACCESS_TTL_S_MIN < ACCESS_TTL_S_MAX
assert ANSWER_RESERVE_MS < READ_BUDGET_MS <= REQUEST_BUDGET_MS
assert (
    REQUEST_STATEMENT_TIMEOUT_MS + REQUEST_CONNECTION_WAIT_MS <= READ_BUDGET_MS - ANSWER_RESERVE_MS
)
assert IDEMPOTENCY_RELEASE_WAIT_MS < ANSWER_RESERVE_MS
assert REDIS_COMMAND_TIMEOUT_MS < READ_BUDGET_MS - ANSWER_RESERVE_MS
assert CLIENT_SNAPSHOT_TIMEOUT_MS < READ_BUDGET_MS - ANSWER_RESERVE_MS
assert 3 * REQUEST_BUDGET_MS <= IDEMPOTENCY_IN_FLIGHT_LEASE_MS
assert OUTBOX_BACKOFF_BASE_MS <= OUTBOX_BACKOFF_MAX_MS <= FAILED_WORK_BACKOFF_BASE_MS
assert FAILED_WORK_BACKOFF_BASE_MS <= FAILED_WORK_BACKOFF_MAX_MS
assert FAILED_WORK_LISTED_DEFAULT <= FAILED_WORK_LISTED_MAX
assert OUTBOX_DELIVERY_TIMEOUT_MS < OUTBOX_TENANT_DELIVERY_TIMEOUT_MS
assert OUTBOX_TENANT_DELIVERY_TIMEOUT_MS < OUTBOX_BACKLOG_STALE_MS + DISPATCHER_STALLED_MAX_MS
assert WATCHDOG_CALL_TIMEOUT_MS < ACTOR_STALLED_MAX_MS
assert SUPERVISOR_RECONCILE_TIMEOUT_MS < SUPERVISOR_ROUND_INTERVAL_MS * 2
assert payment_limits.PAYMENT_WORKER_START_TIMEOUT_MS < SUPERVISOR_START_TIMEOUT_MS
assert payment_limits.STRIPE_CALL_TIMEOUT_MS <= REQUEST_BUDGET_MS
assert payment_limits.VENUE_REFUND_WAIT_MS < REQUEST_BUDGET_MS
assert QR_STEP_MS * QR_CLOCK_SKEW_STEPS < TRANSFER_COOLDOWN_MS
assert SCAN_MANIFEST_TICKETS_DEFAULT <= SCAN_MANIFEST_TICKETS_MAX
assert TRANSFER_COOLDOWN_MS < TRANSFER_LIMIT_WINDOW_MS
assert REENTRY_COOLDOWN_S_MIN < REENTRY_COOLDOWN_S_MAX
assert REENTRIES_PER_ZONE_MIN < REENTRIES_PER_ZONE_MAX
