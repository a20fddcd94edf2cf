-- On-sale settings a venue changes during a sale. An event may set no per-fan limit (NULL); the
-- limit, when set, stays positive. An access granted by the waiting room keeps the expiry it was
-- granted with, so each admitted place records it: a later access_ttl_s applies to later accesses.

ALTER TABLE events ALTER COLUMN max_tickets_per_user DROP NOT NULL;

ALTER TABLE waiting_room_places ADD COLUMN access_expires_at_ms bigint;

-- The owner fills in every tenant's admitted places, so the fence steps aside for this transaction.
ALTER TABLE waiting_room_places NO FORCE ROW LEVEL SECURITY;
ALTER TABLE waiting_rooms NO FORCE ROW LEVEL SECURITY;
UPDATE waiting_room_places AS places
SET access_expires_at_ms = places.admitted_at_ms + rooms.access_ttl_s * 1000::bigint
FROM waiting_rooms AS rooms
WHERE rooms.event_id = places.event_id AND places.admitted_at_ms IS NOT NULL;
ALTER TABLE waiting_rooms FORCE ROW LEVEL SECURITY;
ALTER TABLE waiting_room_places FORCE ROW LEVEL SECURITY;

ALTER TABLE waiting_room_places
    ADD CONSTRAINT waiting_room_places_access_expiry_check CHECK (
        (admitted_at_ms IS NULL) = (access_expires_at_ms IS NULL)
        AND (access_expires_at_ms IS NULL OR access_expires_at_ms > admitted_at_ms)
    );
