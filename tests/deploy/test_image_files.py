"""The Dockerfile copies every package of the project and what its build reads, installs the
dependencies at the lock's versions before any code (so a change of code reuses that layer), and
runs as a user of its own with a readiness check; the lock pins every requirement within its
bounds, at the versions this project's .venv runs."""

import importlib.metadata
import pathlib
import re
import subprocess
import sys
import tomllib
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import PROJECT_ROOT
from tests.deploy.dockerfile import Instruction, copied_paths, copied_sources, instructions

CONSTRAINTS = PROJECT_ROOT / "constraints.txt"
REQUIREMENTS_SCRIPT = PROJECT_ROOT / "deploy" / "requirements.py"
DEPENDENCY_FILES = ["pyproject.toml", "constraints.txt", "deploy/requirements.py"]
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)$")


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    with (PROJECT_ROOT / "pyproject.toml").open("rb") as file:
        found: dict[str, Any] = tomllib.load(file)
    return found


def packages_of(project: dict[str, Any]) -> set[str]:
    """The top-level packages pyproject.toml's package finder includes."""
    include = project["tool"]["setuptools"]["packages"]["find"]["include"]
    return {pattern.removesuffix("*") for pattern in include}


def pins() -> dict[str, str]:
    found = {}
    for line in CONSTRAINTS.read_text().splitlines():
        match = PIN.match(line)
        assert match, f"constraints.txt pins packages by name==version only: {line!r}"
        found[canonicalize_name(match["name"])] = match["version"]
    return found


def every_requirement(project: dict[str, Any]) -> list[Requirement]:
    optional = project["project"]["optional-dependencies"]
    entries = [*project["project"]["dependencies"], *(e for r in optional.values() for e in r)]
    return [Requirement(entry) for entry in entries]


def index_of(steps: list[Instruction], keyword: str, text: str) -> int:
    [index] = [
        i for i, step in enumerate(steps) if step.keyword == keyword and text in step.arguments
    ]
    return index


def test_the_image_copies_every_package_of_the_project(project: dict[str, Any]) -> None:
    packages = packages_of(project)
    on_disk = {
        path.parent.name
        for path in PROJECT_ROOT.glob("*/__init__.py")
        if path.parent.name != "tests"
    }
    assert packages == on_disk
    copied = set(copied_paths())
    assert packages <= copied
    assert copied - packages == {*DEPENDENCY_FILES, "README.md", "LICENSE"}


def test_every_path_the_image_copies_exists_and_reaches_the_builder() -> None:
    ignored = [
        line.strip()
        for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for path in copied_paths():
        assert (PROJECT_ROOT / path).exists(), path
        assert not any(pathlib.PurePath(path).match(pattern) for pattern in ignored), path


def test_the_build_reads_the_readme_and_license_the_image_copies(project: dict[str, Any]) -> None:
    assert project["project"]["readme"] in copied_paths()
    assert project["project"]["license"] == "Apache-2.0"
    assert "Apache License" in (PROJECT_ROOT / "LICENSE").read_text()
    assert project["project"]["license-files"] == ["LICENSE"]
    assert "LICENSE" in copied_paths()


def test_the_dependencies_are_installed_at_the_locks_versions_before_any_code_is_copied(
    project: dict[str, Any],
) -> None:
    steps = instructions()
    install_dependencies = index_of(steps, "RUN", "--constraint constraints.txt --requirement")
    copies_before = [step for step in steps[:install_dependencies] if step.keyword == "COPY"]
    assert [path for step in copies_before for path in copied_sources(step)] == DEPENDENCY_FILES
    first_package = min(
        index
        for index, step in enumerate(steps)
        if step.keyword == "COPY" and set(copied_sources(step)) & packages_of(project)
    )
    install_project = index_of(steps, "RUN", "pip install --no-deps .")
    last_copy = max(index for index, step in enumerate(steps) if step.keyword == "COPY")
    assert install_dependencies < first_package and last_copy < install_project


def test_the_image_runs_as_a_user_of_its_own_and_checks_the_gateways_readiness() -> None:
    steps = instructions()
    [user] = [step for step in steps if step.keyword == "USER"]
    assert user.arguments not in {"root", "0"}
    assert steps.index(user) < index_of(steps, "CMD", "onsale")
    [health_check] = [step for step in steps if step.keyword == "HEALTHCHECK"]
    assert "/health/ready" in health_check.arguments
    assert "os.environ['ONSALE_PORT']" in health_check.arguments
    environment = " ".join(step.arguments for step in steps if step.keyword == "ENV")
    [port] = re.findall(r"ONSALE_PORT=(\d+)", environment)
    [exposed] = [step.arguments for step in steps if step.keyword == "EXPOSE"]
    assert exposed == port


def test_the_lock_pins_every_requirement_within_its_bounds(project: dict[str, Any]) -> None:
    pinned = pins()
    assert "onsale" not in pinned
    for requirement in every_requirement(project):
        version = pinned.get(canonicalize_name(requirement.name))
        assert version is not None, f"constraints.txt does not pin {requirement.name}"
        assert requirement.specifier.contains(version, prereleases=True), (requirement, version)


def test_this_projects_venv_runs_the_locks_versions() -> None:
    installed = {
        canonicalize_name(distribution.metadata["Name"]): distribution.version
        for distribution in importlib.metadata.distributions()
    }
    differing = {
        name: (version, installed.get(name))
        for name, version in pins().items()
        if installed.get(name) != version
    }
    assert not differing, "`make lock` writes constraints.txt again from .venv"


def requirements_printed(*extras: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REQUIREMENTS_SCRIPT), str(PROJECT_ROOT / "pyproject.toml"), *extras],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


def test_the_requirements_script_prints_the_dependencies_and_the_extras_asked_for(
    project: dict[str, Any],
) -> None:
    base = project["project"]["dependencies"]
    embedded = project["project"]["optional-dependencies"]["embedded"]
    assert requirements_printed().stdout.splitlines() == base
    assert requirements_printed("embedded").stdout.splitlines() == [*base, *embedded]
    refused = requirements_printed("no-such-extra")
    assert refused.returncode != 0 and "no-such-extra" in refused.stderr
