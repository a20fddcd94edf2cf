"""Debian packages a test or a benchmark needs on the machine (HAProxy, Chromium): installed with
apt-get when the program is missing (as root, or through sudo), the package lists refreshed once
when the first attempt fails, as on a fresh machine, so a new machine needs nothing installed by
hand. A package that cannot be installed fails the run."""

import os
import pathlib
import shutil
import subprocess


def as_root(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return command
    sudo = shutil.which("sudo")
    assert sudo is not None, f"installing needs root or sudo: {' '.join(command)}"
    return [sudo, "-n", *command]


def ensure_debian_package(package: str, program: str) -> pathlib.Path:
    """`program` (an absolute path) of Debian's `package`, installed now when it is missing."""
    path = pathlib.Path(program)
    if not path.exists():
        environment = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        install = as_root(["apt-get", "install", "-y", package])
        if subprocess.run(install, env=environment, check=False).returncode != 0:
            subprocess.run(as_root(["apt-get", "update"]), env=environment, check=True)
            subprocess.run(install, env=environment, check=True)
    assert path.exists(), f"apt-get installed {package} but {path} is missing"
    return path
