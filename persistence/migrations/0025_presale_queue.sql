-- An invite-only queue and a presale line in the waiting room. `waiting_room_requires_code` makes
-- joining the queue need a valid code of the event. The presale line takes the first
-- `presale_count` slots of the room; a place still in the pre-queue has no slot until the draw
-- gives it one behind that line, so a presale place can join ahead of places that joined earlier.

ALTER TABLE events ADD COLUMN waiting_room_requires_code boolean NOT NULL DEFAULT false;

ALTER TABLE waiting_rooms
    ADD COLUMN presale_count integer NOT NULL DEFAULT 0 CHECK (presale_count >= 0);

ALTER TABLE waiting_room_places ALTER COLUMN slot DROP NOT NULL;

-- The owner renumbers every tenant's places, so the fence steps aside for this transaction. A
-- pre-queue place loses its slot; a room not yet drawn numbered the places that joined after
-- `opens_at` from the pre-queue's count, and now numbers them from 0 (it has no presale line).
ALTER TABLE waiting_room_places NO FORCE ROW LEVEL SECURITY;
ALTER TABLE waiting_rooms NO FORCE ROW LEVEL SECURITY;
UPDATE waiting_room_places SET slot = NULL WHERE state = 'pre_queue';
UPDATE waiting_room_places AS places
SET slot = places.slot - rooms.pre_queue_count
FROM waiting_rooms AS rooms
WHERE rooms.event_id = places.event_id AND rooms.opened_at_ms IS NULL
  AND places.slot IS NOT NULL;
ALTER TABLE waiting_rooms FORCE ROW LEVEL SECURITY;
ALTER TABLE waiting_room_places FORCE ROW LEVEL SECURITY;

ALTER TABLE waiting_room_places
    ADD CONSTRAINT waiting_room_places_pre_queue_slot_check CHECK ((slot IS NULL) = (state = 'pre_queue'));
