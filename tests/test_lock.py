"""The lock files pin every Python package with its hashes and agree with pyproject.toml.

``make lock`` writes them with pip-compile (network, a minute or two); this test reads what it
wrote, so a dependency added to pyproject.toml without ``make lock`` fails here, not on a box.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^ \\]+)", re.MULTILINE)
CHECKERS = ("ruff", "mypy", "import-linter")


def pins(lock: str) -> dict[str, str]:
    """Each package of a lock file with its pinned version."""
    text = (ROOT / lock).read_text(encoding="utf-8")
    return {canonicalize_name(name): version for name, version in PIN.findall(text)}


def entries(lock: str) -> list[str]:
    """The lock's requirement entries, each with its continuation lines."""
    text = (ROOT / lock).read_text(encoding="utf-8")
    return [block for block in re.split(r"\n(?=[A-Za-z0-9])", text) if PIN.match(block)]


def _check(requirements: list[str], lock: str) -> None:
    pinned = pins(lock)
    for line in requirements:
        wanted = Requirement(line)
        name = canonicalize_name(wanted.name)
        assert name in pinned, f"{wanted.name} is not in {lock}: run `make lock`"
        assert wanted.specifier.contains(pinned[name], prereleases=True), (line, pinned[name])


def test_the_box_lock_holds_every_dependency_and_the_wheels_build_backend() -> None:
    _check(PYPROJECT["project"]["dependencies"], "requirements.lock")
    _check(PYPROJECT["build-system"]["requires"], "requirements.lock")


def test_the_dev_lock_holds_every_dependency_and_dev_tool() -> None:
    dev = PYPROJECT["project"]["optional-dependencies"]["dev"]
    _check([*PYPROJECT["project"]["dependencies"], *dev], "requirements-dev.lock")


def test_the_build_lock_is_the_build_backend_alone_at_the_other_locks_versions() -> None:
    # Installed first, so that pyscard's sdist builds without isolation (which would fetch its
    # build requirements, setuptools and PyPI's swig, unpinned).
    build = pins("requirements-build.lock")
    _check(PYPROJECT["build-system"]["requires"], "requirements-build.lock")
    assert set(build) == {
        canonicalize_name(Requirement(r).name) for r in PYPROJECT["build-system"]["requires"]
    }
    for lock in ("requirements.lock", "requirements-dev.lock"):
        other = pins(lock)
        assert {name: other.get(name) for name in build} == build, lock


@pytest.mark.parametrize(
    "lock", ["requirements.lock", "requirements-dev.lock", "requirements-build.lock"]
)
def test_every_entry_has_hashes_and_no_machine_leaks_in(lock: str) -> None:
    found = entries(lock)
    assert len(found) >= (1 if lock == "requirements-build.lock" else 20)
    for block in found:
        assert "--hash=sha256:" in block, block.splitlines()[0]
    lines = (ROOT / lock).read_text(encoding="utf-8").splitlines()
    options = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    # pip-compile writes the index options of the machine it ran on unless told not to.
    for leak in ("--index-url", "--extra-index-url", "--find-links", "file:", "/opt/"):
        assert leak not in options, leak


def test_the_checkers_are_pinned_and_run_at_the_locked_version() -> None:
    dev = {
        Requirement(r).name: Requirement(r)
        for r in PYPROJECT["project"]["optional-dependencies"]["dev"]
    }
    pinned = pins("requirements-dev.lock")
    for checker in CHECKERS:
        (spec,) = dev[checker].specifier
        assert spec.operator == "==", checker
        assert pinned[checker] == spec.version, checker
        # The tests run in a venv made from the lock (or from the same pins).
        assert metadata.version(checker) == spec.version, checker
