-- A ticket type's own sale window (inside the event's; NULL follows the event) and its price
-- phases, as the engine's PricePhase values in order (`[]` when the type has one price). The
-- InventoryActor checks both and rewrites them only before the type's first sale; `price_cents`
-- stays the first phase's price, and the price a type shows now is worked out from its phases.
ALTER TABLE ticket_types
    ADD COLUMN on_sale_from timestamptz,
    ADD COLUMN on_sale_until timestamptz,
    ADD COLUMN price_phases jsonb NOT NULL DEFAULT '[]',
    ADD CONSTRAINT ticket_types_sale_window_is_ordered
        CHECK (on_sale_from IS NULL OR on_sale_until IS NULL OR on_sale_from < on_sale_until),
    ADD CONSTRAINT ticket_types_price_phases_are_a_short_list
        CHECK (jsonb_typeof(price_phases) = 'array' AND jsonb_array_length(price_phases) <= 10);

-- A hold or a sale straddling a phase boundary carries its ticket type once per unit price: an
-- item is now one (ticket type, unit price) pair, each pair at most once.
CREATE FUNCTION has_no_repeated_pairs(uuid[], bigint[]) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT count(*) = count(DISTINCT (pair.first, pair.second))
    FROM unnest($1, $2) AS pair (first, second)
$$;

ALTER TABLE holds
    DROP CONSTRAINT holds_items_name_each_ticket_type_once,
    ADD CONSTRAINT holds_items_name_each_ticket_type_price_once CHECK (
        CASE WHEN cardinality(item_ticket_type_ids) = 1 THEN true
             ELSE has_no_repeated_pairs(item_ticket_type_ids, item_unit_prices_cents) END
    );

ALTER TABLE sale_items
    DROP CONSTRAINT sale_items_pkey,
    ADD PRIMARY KEY (order_id, position),
    ADD CONSTRAINT sale_items_name_each_ticket_type_price_once
        UNIQUE (order_id, ticket_type_id, unit_price_cents);

ALTER TABLE order_items
    DROP CONSTRAINT order_items_pkey,
    ADD PRIMARY KEY (order_id, ticket_type_id, unit_price_cents);
