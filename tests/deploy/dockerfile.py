"""The Dockerfile read as its instructions, in order, each with its arguments on one line (continued
lines joined, comments left out), and what it copies from the project."""

import pathlib

import msgspec

from tests.conftest import PROJECT_ROOT

DOCKERFILE = PROJECT_ROOT / "Dockerfile"


class Instruction(msgspec.Struct, frozen=True):
    keyword: str
    arguments: str


def instructions(path: pathlib.Path = DOCKERFILE) -> list[Instruction]:
    found = []
    pending = ""
    for line in path.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            keyword, _, arguments = pending.strip().partition(" ")
            found.append(Instruction(keyword.upper(), " ".join(arguments.split())))
            pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return found


def copied_sources(copy: Instruction) -> list[str]:
    """The project's paths one COPY takes: every word but the destination and the options."""
    words = [word for word in copy.arguments.split() if not word.startswith("--")]
    return words[:-1]


def copied_paths(path: pathlib.Path = DOCKERFILE) -> list[str]:
    """Every project path the Dockerfile copies, in order."""
    return [
        source
        for instruction in instructions(path)
        if instruction.keyword == "COPY"
        for source in copied_sources(instruction)
    ]
