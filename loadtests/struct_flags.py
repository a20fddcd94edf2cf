"""A Struct's fields as command-line flags and back, so each run's knobs are declared once, as
fields with their defaults: `onsale loadtest` and `onsale demo` build their flags this way.

Light on imports, since the `onsale` command builds its parser for every subcommand.
"""

import argparse
from typing import TypeVar

import msgspec

S = TypeVar("S", bound=msgspec.Struct)


def add_field_flags(
    parser: argparse.ArgumentParser, defaults: msgspec.Struct, flags: list[tuple[str, type, str]]
) -> None:
    """One `--field-name` flag per (field, type, meaning), defaulting to the field in `defaults`."""
    for field, kind, meaning in flags:
        default = getattr(defaults, field)
        parser.add_argument(
            "--" + field.replace("_", "-"),
            dest=field,
            type=kind,
            default=default,
            help=f"{meaning} (default: {default:,})",
        )


def struct_from_flags(struct_type: type[S], arguments: argparse.Namespace) -> S:
    """The Struct the flags describe, its other fields at their defaults; ValueError names what
    is wrong with it."""
    return struct_type(
        **{
            field: getattr(arguments, field)
            for field in struct_type.__struct_fields__
            if hasattr(arguments, field)
        }
    )
