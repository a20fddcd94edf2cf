"""The data directory's lock: one `onsale up` (or `onsale migrate`) per directory, held as long as
its file stays open, so what a later run finds there belongs to a run that is gone."""

import fcntl
import pathlib
from typing import IO

DATA_DIRECTORY_LOCK_FILE_NAME = "onsale.lock"


class DataDirectoryInUse(Exception):
    """Another `onsale up` (or `onsale migrate`) holds this data directory."""


def lock_data_directory(data_path: pathlib.Path) -> IO[str]:
    """The data directory's lock, held while the returned file stays open; the kernel lets go
    when the process ends, however it ends, so a crashed run never keeps it."""
    data_path.mkdir(parents=True, exist_ok=True)
    lock = (data_path / DATA_DIRECTORY_LOCK_FILE_NAME).open("a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise DataDirectoryInUse(
            f"another `onsale up` runs on the data directory {data_path}; stop it first"
        ) from None
    return lock
