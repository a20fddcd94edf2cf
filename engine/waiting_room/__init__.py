"""The waiting room of one event, one module a job, in the inventory's shape: its configuration
checks, commands and changes, its state, the rows persistence keeps, the views the API shows, the
decisions and the one place they are applied.

Every fan holds one place, numbered by join sequence; a queue slot orders the places. Fans who
join before `opens_at` with a presale code form the presale line, admitted in join order before
the opening; the other fans who join before `opens_at` are shuffled by the seeded draw behind it
when the room opens, later fans queue first come first served behind them, and admission takes
places from the head of the queue.
"""
