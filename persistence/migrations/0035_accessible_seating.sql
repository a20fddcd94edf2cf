-- Accessible seating: a seat of the seat map may be marked `accessible` or `companion` when the
-- event is created (NULL: an ordinary seat), and `events.accessible_release_at` is the moment
-- from which unsold marked seats sell as ordinary ones (NULL: never; the venue gives it as hours
-- before `starts_at`). Seats and events keep their row-level security; seats and events written
-- before this migration are ordinary seats and events that release nothing.
ALTER TABLE seats ADD COLUMN access text CHECK (access IN ('accessible', 'companion'));
ALTER TABLE events ADD COLUMN accessible_release_at timestamptz
    CHECK (accessible_release_at <= starts_at);
