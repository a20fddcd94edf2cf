"""Prints the requirements of pyproject.toml's project, one a line: its dependencies, then those of
each extra named after the file. The Dockerfile installs them, pinned by constraints.txt, before it
copies the code, so a change of code alone reuses the image's layer of dependencies.
"""

import pathlib
import sys
import tomllib


def requirements(pyproject: pathlib.Path, extras: list[str]) -> list[str]:
    with pyproject.open("rb") as file:
        project = tomllib.load(file)["project"]
    optional = project["optional-dependencies"]
    unknown = sorted(set(extras) - set(optional))
    if unknown:
        raise SystemExit(f"{pyproject} has no extra {', '.join(unknown)}")
    return [*project["dependencies"], *(entry for extra in extras for entry in optional[extra])]


if __name__ == "__main__":
    print("\n".join(requirements(pathlib.Path(sys.argv[1]), sys.argv[2:])))
