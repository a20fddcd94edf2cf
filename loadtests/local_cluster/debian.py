"""Debian packages a test or benchmark needs, installed by its own set-up when missing, so a new
machine needs nothing installed by hand."""

import pathlib
import shutil
import subprocess

APT_TIMEOUT_S = 600


def ensure_debian_package(package: str, executable: str) -> pathlib.Path:
    """The path of `executable`, installing `package` with apt-get first if it is not there."""
    found = shutil.which(executable)
    if found is None:
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", package],
            check=True,
            capture_output=True,
            timeout=APT_TIMEOUT_S,
            env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )
        found = shutil.which(executable, path="/usr/sbin:/usr/bin:/sbin:/bin")
    assert found is not None, f"{package} installed no {executable}"
    return pathlib.Path(found)
