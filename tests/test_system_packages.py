"""The Makefile's APT_PACKAGES are what the commands and the tests run, no more and no less."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Each program `make run`, `make test`, `make bench` or `make boot-test` runs, and its package.
PROGRAMS = {
    "pcscd": "pcscd",
    "tmux": "tmux",
    "pgrep": "procps",
    "systemd-analyze": "systemd",
    "systemd-sysusers": "systemd",
    "systemd-tmpfiles": "systemd",
    "systemctl": "systemd",
    "git": "git",
    "make": "make",
    "gcc": "gcc",
    "swig": "swig",
    "debootstrap": "debootstrap",
    "systemd-nspawn": "systemd-container",
}
# initdb is outside PATH on Debian; the postgresql package depends on the server of the release.
SERVER_GLOB = "/usr/lib/postgresql/*/bin/initdb"
# Packages that ship no program the commands call by name: what pyscard builds against, the
# venv module, and the virtual reader driver pcscd loads.
LIBRARIES = {"python3-venv", "python3-dev", "libpcsclite-dev", "vsmartcard-vpcd", "postgresql"}


def apt_packages() -> set[str]:
    """The APT_PACKAGES of the Makefile (continuation lines joined)."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    match = re.search(r"^APT_PACKAGES := (.*)$", text, re.MULTILINE)
    assert match
    return set(match.group(1).split())


def owner(path: str) -> str:
    """The Debian package that installed ``path``: dpkg may know it by its resolved symlink or,
    after the /usr merge, under /bin or /sbin."""
    resolved = str(Path(path).resolve())
    merged = [p.removeprefix("/usr") for p in (path, resolved) if p.startswith("/usr/")]
    for candidate in dict.fromkeys((path, resolved, *merged)):
        done = subprocess.run(
            ["dpkg-query", "-S", candidate], capture_output=True, text=True, check=False
        )
        if done.returncode == 0:
            return done.stdout.split(":")[0]
    raise AssertionError(f"no package owns {path}")


def test_every_package_is_needed_and_every_needed_package_is_listed() -> None:
    assert apt_packages() == set(PROGRAMS.values()) | LIBRARIES


def test_each_program_comes_from_the_package_named_for_it() -> None:
    # On this machine (which ran `make`): the table above says where each program comes from.
    for program, package in PROGRAMS.items():
        found = shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin")
        assert found, f"{program} is missing: apt-get install {package}"
        assert owner(found) == package, program
    servers = sorted(Path("/").glob(SERVER_GLOB.lstrip("/")))
    assert servers, "no PostgreSQL server binaries: apt-get install postgresql"
    assert owner(str(servers[-1])).startswith("postgresql-")
