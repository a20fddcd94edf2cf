"""What Postgres may answer besides a result, classified once for every part of the service that
talks to it (actors, workers, the gateway, the Supervisor's loops), so none forgets a kind.

- `UNREACHABLE_ERRORS`: Postgres cannot answer now (the connection is lost or refused, the server
  shuts down or restarts, it has no connection or resource left, or asyncpg's connection state was
  broken by a shutdown in the middle of a query). Nothing was done, or it was rolled back: retry.
- `DATABASE_ERRORS`: those, and any statement Postgres refused; what a loop catches to log, back
  off and go on.
- `REFUSED_DATA_ERRORS`: Postgres refused the rows themselves (SQLSTATE class 22: a NUL in a
  text, a value out of a column's range), or their text could not even be encoded: the fault of
  the command that wrote them. Catch it before DATABASE_ERRORS, which holds it.
"""

import asyncpg

UNREACHABLE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
)
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    *UNREACHABLE_ERRORS,
    asyncpg.PostgresError,
)
REFUSED_DATA_ERRORS: tuple[type[BaseException], ...] = (asyncpg.DataError, UnicodeEncodeError)
