-- What the event's inventory last said it has left, as its waiting room recorded it: a rebuilt
-- room keeps admission paused and its queued places sold out until the inventory says otherwise.
ALTER TABLE waiting_rooms
    ADD COLUMN stock text NOT NULL DEFAULT 'available'
        CHECK (stock IN ('available', 'held', 'sold_out'));
