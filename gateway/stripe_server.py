"""Runs localstripe (a local Stripe API in test mode) with its store in a file of our choosing.

localstripe keeps its whole store in one hard-coded /tmp pickle; the embedded runtime needs it
under the data directory so that `onsale up` on the same directory finds its PaymentIntents again.
"""

import argparse
import pathlib
import pickle
import socket

from aiohttp import web
from localstripe import resources, server


def use_store_file(path: pathlib.Path) -> None:
    def load(store: resources.Store) -> None:
        if path.exists():
            with path.open("rb") as file:
                saved = pickle.load(file)
            dict.clear(store)
            dict.update(store, saved)

    def dump(store: resources.Store) -> None:
        temporary = path.with_suffix(".tmp")
        with temporary.open("wb") as file:
            pickle.dump(dict(store), file, protocol=pickle.HIGHEST_PROTOCOL)
        temporary.replace(path)

    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = dump


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", type=pathlib.Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    arguments = parser.parse_args()
    use_store_file(arguments.store)
    resources.store.try_load_from_disk()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((arguments.host, arguments.port))
    web.run_app(server.app, sock=listener, print=None)


if __name__ == "__main__":
    main()
