"""The wheel built from exactly what the Dockerfile copies holds every package, the migrations and
the dashboard's files; installed alone in a clean venv, beside the distributions the project's
dependencies need and nothing of its extras (a production install), every module imports but those
of the embedded parts and locust, and a command that needs an extra stops, naming it."""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

from onsale.extras import EXTRA_MODULES
from tests.conftest import PROJECT_ROOT, private_directory
from tests.deploy.dockerfile import copied_paths
from tests.deploy.production_site import closure, link_production_site, top_level_entries

BUILD_TIMEOUT_S = 300
COMMAND_TIMEOUT_S = 120
# Imports each module named on its standard input, then prints what failed and why.
IMPORT_EVERY_MODULE = """
import importlib, json, sys
failed = {}
for name in json.load(sys.stdin):
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as error:
        failed[name] = error.name
import onsale
print(json.dumps({"failed": failed, "onsale": onsale.__file__}))
"""


class Installed:
    """The wheel, the clean venv it is installed in, and the production site beside it."""

    def __init__(self, wheel: pathlib.Path, venv: pathlib.Path, site: pathlib.Path) -> None:
        self.wheel = wheel
        self.venv = venv
        self.site = site

    def run(self, command: list[str], **environment: str) -> subprocess.CompletedProcess[str]:
        """`command` from the venv's bin, in a directory of its own, with none of the project's
        settings but those given and nothing on the path but the production site."""
        kept = {
            name: value
            for name, value in os.environ.items()
            if name in {"PATH", "HOME", "LANG", "TMPDIR", "ONSALE_CI_RUN"}
        }
        return subprocess.run(
            [str(self.venv / "bin" / command[0]), *command[1:]],
            cwd=self.venv,
            env=kept | {"PYTHONPATH": str(self.site)} | environment,
            capture_output=True,
            text=True,
            check=False,
            timeout=COMMAND_TIMEOUT_S,
        )


def project() -> dict[str, Any]:
    with (PROJECT_ROOT / "pyproject.toml").open("rb") as file:
        found: dict[str, Any] = tomllib.load(file)
    return found


def copy_what_the_image_copies(context: pathlib.Path) -> None:
    for path in copied_paths():
        source, target = PROJECT_ROOT / path, context / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)


def build_wheel(context: pathlib.Path, wheel_directory: pathlib.Path) -> pathlib.Path:
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"),
            *("--wheel-dir", str(wheel_directory), str(context)),
        ],
        check=True,
        timeout=BUILD_TIMEOUT_S,
    )
    [wheel] = wheel_directory.glob("onsale-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed() -> Iterator[Installed]:
    with private_directory("onsale-wheel-") as directory:
        copy_what_the_image_copies(directory / "context")
        wheel = build_wheel(directory / "context", directory / "wheels")
        venv = directory / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")),
                *("install", "--quiet", "--no-deps", "--no-index", str(wheel)),
            ],
            check=True,
            timeout=BUILD_TIMEOUT_S,
        )
        site = directory / "site"
        link_production_site(project()["project"]["dependencies"], site)
        yield Installed(wheel, venv, site)


def wheel_files(installed: Installed) -> set[str]:
    with zipfile.ZipFile(installed.wheel) as wheel:
        return set(wheel.namelist())


def wheel_metadata(installed: Installed) -> str:
    with zipfile.ZipFile(installed.wheel) as wheel:
        [name] = [name for name in wheel.namelist() if name.endswith(".dist-info/METADATA")]
        return wheel.read(name).decode()


def project_modules(files: set[str]) -> list[str]:
    modules = []
    for name in sorted(files):
        if name.endswith(".py") and ".dist-info/" not in name:
            parts = name.removesuffix(".py").split("/")
            modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


def extras_only_names() -> set[str]:
    """The top-level names the extras bring that the dependencies do not."""
    optional = project()["project"]["optional-dependencies"]
    base = closure(project()["project"]["dependencies"])
    extras = closure([entry for extra in EXTRA_MODULES for entry in optional[extra]])
    return {
        entry.removesuffix(".py").split(".")[0]
        for name, distribution in extras.items()
        if name not in base
        for entry in top_level_entries(distribution)
        if not entry.endswith(".dist-info")
    }


def test_the_wheel_holds_every_package_with_its_migrations_and_dashboard(
    installed: Installed,
) -> None:
    files = wheel_files(installed)
    include = project()["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.removesuffix("*") for pattern in include}
    for package in packages:
        assert f"{package}/__init__.py" in files, package
    data_files = [
        path.relative_to(PROJECT_ROOT).as_posix()
        for package in packages
        for path in (PROJECT_ROOT / package).rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"}
    ]
    assert [path for path in data_files if path not in files] == []
    assert any(path.startswith("persistence/migrations/") for path in data_files)
    assert any(path.startswith("gateway/static/") for path in data_files)


def test_the_wheel_says_its_license_python_entry_point_and_extras(installed: Installed) -> None:
    files = wheel_files(installed)
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in files)
    metadata = wheel_metadata(installed)
    assert "Requires-Python: <3.13,>=3.11" in metadata
    assert "License-Expression: Apache-2.0" in metadata
    for extra in EXTRA_MODULES:
        assert f"Provides-Extra: {extra}" in metadata
    with zipfile.ZipFile(installed.wheel) as wheel:
        [entry_points] = [name for name in files if name.endswith(".dist-info/entry_points.txt")]
        assert "onsale = onsale.cli:main" in wheel.read(entry_points).decode()


def test_in_a_production_install_only_the_embedded_parts_and_locust_need_an_extra(
    installed: Installed,
) -> None:
    modules = project_modules(wheel_files(installed))
    checked = subprocess.run(
        [str(installed.venv / "bin" / "python"), "-c", IMPORT_EVERY_MODULE],
        input=json.dumps(modules),
        cwd=installed.venv,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(installed.site)},
        capture_output=True,
        text=True,
        check=True,
        timeout=COMMAND_TIMEOUT_S,
    )
    report = json.loads(checked.stdout.splitlines()[-1])
    assert pathlib.Path(report["onsale"]).is_relative_to(installed.venv)
    failed: dict[str, str] = report["failed"]
    missing = {module: name.split(".")[0] for module, name in failed.items()}
    assert {package.split(".")[0] for package in failed} <= {"embedded", "loadtests"}, failed
    assert set(missing.values()) <= extras_only_names(), failed
    assert missing["embedded.postgres_part"] == "pgserver"
    assert missing["embedded.stripe_server"] == "localstripe"
    assert "loadtests.locustfile" in failed
    for module in ("onsale.cli", "onsale.runtime", "gateway.app", "embedded.part_watcher"):
        assert module not in failed


@pytest.mark.parametrize("command", ["up", "migrate", "demo"])
def test_an_embedded_start_without_the_extra_stops_naming_it(
    installed: Installed, command: str, tmp_path: pathlib.Path
) -> None:
    stopped = installed.run(["onsale", command], ONSALE_DATA_DIR=str(tmp_path / "data"))
    assert stopped.returncode == 2, stopped.stderr
    assert "pip install 'onsale[embedded]'" in stopped.stderr
    assert "Postgres" in stopped.stderr and "DATABASE_URL" in stopped.stderr
    assert not (tmp_path / "data" / "postgres").exists()


def test_a_load_test_without_locust_stops_naming_its_extra(
    installed: Installed, tmp_path: pathlib.Path
) -> None:
    stopped = installed.run(["onsale", "loadtest"], ONSALE_DATA_DIR=str(tmp_path / "data"))
    assert stopped.returncode == 2, stopped.stderr
    assert "pip install 'onsale[loadtest]'" in stopped.stderr


def test_the_production_start_imports_no_embedded_part_nor_locust() -> None:
    """In this project's .venv, where every extra is installed: the modules `onsale up` imports
    leave the extras' alone (Ray brings a psutil of its own, so psutil is not looked for)."""
    looked_for = [name for names in EXTRA_MODULES.values() for name in names if name != "psutil"]
    script = (
        "import sys, json, onsale.cli, onsale.runtime; "
        f"print(json.dumps([name for name in {looked_for!r} if name in sys.modules]))"
    )
    imported = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=COMMAND_TIMEOUT_S,
    )
    assert json.loads(imported.stdout.splitlines()[-1]) == []
