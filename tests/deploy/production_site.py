"""What a production install of the project has besides the project: the distributions its
dependencies need, and nothing of its extras, gathered from this .venv into one directory of
symbolic links, to be put on PYTHONPATH before the project's wheel, installed alone."""

import importlib.metadata
import pathlib
from collections.abc import Iterable

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# Requirements a marker keeps whatever extra is asked for: `extra` is empty.
NO_EXTRA = ""


def needed(requirement: Requirement, extras: frozenset[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({"extra": extra}) for extra in extras | {NO_EXTRA})


def closure(requirements: Iterable[str]) -> dict[str, importlib.metadata.Distribution]:
    """Every installed distribution the requirements need, theirs too, by canonical name."""
    found: dict[str, importlib.metadata.Distribution] = {}
    extras_asked: dict[str, frozenset[str]] = {}
    pending = [Requirement(entry) for entry in requirements]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        extras = extras_asked.get(name, frozenset()) | requirement.extras
        if name in found and extras == extras_asked[name]:
            continue
        distribution = importlib.metadata.distribution(name)
        found[name] = distribution
        extras_asked[name] = extras
        for entry in distribution.requires or []:
            dependency = Requirement(entry)
            if needed(dependency, extras):
                pending.append(dependency)
    return found


def top_level_entries(distribution: importlib.metadata.Distribution) -> set[str]:
    """The names a distribution puts in site-packages: its packages, modules and metadata."""
    files = distribution.files
    assert files is not None, f"{distribution.metadata['Name']} lists no files"
    return {
        file.parts[0]
        for file in files
        if file.parts[0] not in {"..", "__pycache__"} and not file.parts[0].endswith(".pth")
    }


def link_production_site(requirements: Iterable[str], site: pathlib.Path) -> set[str]:
    """Link each entry of the distributions the requirements need into `site`; their names."""
    site.mkdir(parents=True)
    distributions = closure(requirements)
    for distribution in distributions.values():
        for entry in top_level_entries(distribution):
            link = site / entry
            if not link.exists():
                link.symlink_to(pathlib.Path(str(distribution.locate_file(entry))))
    return set(distributions)
