-- Fans reach a hold or an order by its id alone (`GET /v1/holds/{hold_id}`), while the rows that
-- describe it are fenced by the event's tenant, which the fan's token does not name. Each event
-- gets a small number in the directory, and the gateway mints hold and order ids that carry it,
-- so an id leads to its event (and tenant) with one read of the directory and no write per hold.
ALTER TABLE event_directory
    ADD COLUMN event_number bigint GENERATED ALWAYS AS IDENTITY (START WITH 1) UNIQUE;

