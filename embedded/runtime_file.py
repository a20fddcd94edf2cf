"""`<data dir>/runtime.json`: where each part of a running `onsale up` answers, written once its
parts have started, so that other commands and tools on the same machine find them. Readable by
its owner only, since it holds the development secrets; replaced whole, never half-written."""

import pathlib

import msgspec

from gateway.parts import Parts

RUNTIME_FILE_NAME = "runtime.json"


def write_runtime_file(data_dir: pathlib.Path, parts: Parts) -> pathlib.Path:
    path = data_dir / RUNTIME_FILE_NAME
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(msgspec.json.format(msgspec.json.encode(parts)))
    temporary.chmod(0o600)
    temporary.replace(path)
    return path


def read_runtime_file(data_dir: pathlib.Path) -> Parts:
    return msgspec.json.decode((data_dir / RUNTIME_FILE_NAME).read_bytes(), type=Parts)
