-- The group commit inserts one holds row per hold, so every index on holds is paid on the hot path.
-- Nothing reads holds by fan: the engine enforces the per-fan limit from memory, rebuilt from the
-- event's active holds, and a hold is read back by its id. The index is not unique and guards
-- nothing, so it goes; every unique key on holds stays.
DROP INDEX holds_by_user_index;
