"""The inventory of one event, one module a job: its configuration checks, its state, the rows
persistence keeps, the decisions and the one place they are applied.

A new kind of change is a new `Change` in engine.changes, a decision that returns it, and a case
in `apply`; persistence folds it in persistence.inventory_batch.
"""
