"""The box installs from a wheel: built from the source tree, installed into a fresh venv, run.

The README's box install is ``pip install /opt/rehab-kiosk/src`` (a wheel build), not an editable
checkout, so everything the kiosk reads at run time (the unit files, the catalogues, the
programme files, the migrations, the stylesheets) must travel inside the wheel. The wheel is
built from a copy of the tree's files without build isolation (offline, a few seconds) and
installed with ``--no-deps`` into a venv without pip; the test venv's site-packages are appended
to its path for the dependencies only, after the wheel's own ``kiosk``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import kiosk
from kiosk.box.install import UNITS
from tests.commands import kiosk_env

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("kiosk", "devices", "sync")


@dataclass(frozen=True)
class Installed:
    """A wheel and the venv it was installed into."""

    wheel: Path
    venv: Path
    build_log: str

    @property
    def kiosk(self) -> Path:
        """The venv's ``kiosk`` program (the console script the wheel declares)."""
        return self.venv / "bin" / "kiosk"


def _run(*argv: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env=kiosk_env(cwd / "data"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _source_files() -> list[str]:
    """The tree's files as a clone has them: tracked, plus new ones not ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (REPO / name).is_file()]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """The kiosk's wheel, built from a copy of the tree and installed into a fresh venv."""
    base = tmp_path_factory.mktemp("wheel")
    # The installer refuses a program under /home or /root (the units hide homes): the venv
    # goes where a box's would be allowed, /tmp when the test's temporary folder is in a home.
    in_home = base.is_relative_to("/home") or base.is_relative_to("/root")
    with tempfile.TemporaryDirectory(dir="/tmp" if in_home else base) as outside:
        source = base / "src"
        for name in _source_files():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
        pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
        built = _run(
            *pip,
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            base / "dist",
            source,
            cwd=base,
        )
        assert built.returncode == 0, built.stderr
        (wheel,) = (base / "dist").glob("rehab_kiosk-*.whl")
        venv = Path(outside) / "venv"
        made = _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=base)
        assert made.returncode == 0, made.stderr
        python = venv / "bin" / "python"
        added = _run(
            *pip, "--python", python, "install", "--no-deps", "--no-index", wheel, cwd=base
        )
        assert added.returncode == 0, added.stderr
        # Only now the dependencies: a plain path line, so the test venv's editable kiosk
        # (its own .pth hook) is not loaded and the wheel's copy is the one imported.
        site = subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        (Path(site) / "test-dependencies.pth").write_text(
            sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
        )
        yield Installed(wheel, venv, built.stdout + built.stderr)


def test_the_wheel_holds_every_file_of_the_packages(installed: Installed) -> None:
    # Every file of the packages (catalogues three folders down included), and so the globs of
    # [tool.setuptools.package-data] miss nothing.
    expected = {name for name in _source_files() if name.split("/")[0] in PACKAGES}
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
    assert expected - names == set()
    for unit in UNITS:
        assert f"kiosk/box/units/{unit}" in names
    for language in ("nl", "fr", "en", "de"):
        assert f"kiosk/core/locale/{language}/LC_MESSAGES/kiosk.po" in names
    assert "kiosk/programme/programmes/rugrevalidatie.toml" in names


def test_the_installed_kiosk_runs_from_the_wheel_not_the_checkout(
    installed: Installed, tmp_path: Path
) -> None:
    where = _run(
        installed.venv / "bin" / "python", "-c", "import kiosk; print(kiosk.__file__)", cwd=tmp_path
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(installed.venv)
    version = _run(installed.kiosk, "--version", cwd=tmp_path)
    assert version.returncode == 0, version.stderr
    assert version.stdout == f"rehab-kiosk {kiosk.__version__}\n"


def test_kiosk_install_from_the_wheel_writes_the_units(
    installed: Installed, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    dry = _run(installed.kiosk, "install", "--dry-run", "--root", root, cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    for unit in UNITS:
        assert f"would write /etc/systemd/system/{unit}\n" in dry.stdout
    assert list(root.iterdir()) == []
    done = _run(installed.kiosk, "install", "--root", root, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    shipped = REPO / "kiosk" / "box" / "units"
    for unit in UNITS:
        written = (root / "etc/systemd/system" / unit).read_text(encoding="utf-8")
        # The wheel's copy of the unit, started by the wheel's own kiosk.
        assert written == (shipped / unit).read_text(encoding="utf-8").replace(
            "/opt/rehab-kiosk/venv/bin/kiosk", str(installed.kiosk)
        )
    assert f"ExecStart={installed.kiosk} run\n" in (
        root / "etc/systemd/system/rehab-kiosk.service"
    ).read_text(encoding="utf-8")
    assert (root / "etc/systemd/system/multi-user.target.wants/rehab-kiosk.service").is_symlink()


def test_the_wheels_catalogues_programmes_and_migrations_are_read(
    installed: Installed, tmp_path: Path
) -> None:
    # demo-data creates the database (the wheel's migrations) over the shipped programmes.
    done = _run(installed.kiosk, "demo-data", "--patients", "3", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data" / "kiosk.sqlite").is_file()
    probe = (
        "import kiosk.core.i18n as i, kiosk.programme.loader as p;"
        "print(len(i.catalogue('nl')), *sorted(f.name for f in p.SHIPPED.glob('*.toml')),"
        " i.__file__)"
    )
    done = _run(installed.venv / "bin" / "python", "-c", probe, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    count, *programmes, where = done.stdout.split()
    assert int(count) > 50
    assert programmes == ["back-and-neck.toml", "rugrevalidatie.toml"]
    assert Path(where).is_relative_to(installed.venv)


def test_the_wheel_declares_the_licence_and_the_one_version(installed: Installed) -> None:
    # PEP 639 metadata from setuptools>=77: an SPDX expression and the licence text itself.
    with zipfile.ZipFile(installed.wheel) as wheel:
        info = f"rehab_kiosk-{kiosk.__version__}.dist-info"
        metadata = wheel.read(f"{info}/METADATA").decode()
        licence = wheel.read(f"{info}/licenses/LICENSE").decode()
    assert "License-Expression: AGPL-3.0-or-later\n" in metadata
    assert "License-File: LICENSE\n" in metadata
    assert licence == (REPO / "LICENSE").read_text(encoding="utf-8")
    assert licence.lstrip().startswith("GNU AFFERO GENERAL PUBLIC LICENSE\n")
    # The version is kiosk.__version__ (pyproject reads it), so the metadata, the package and
    # `kiosk --version` cannot disagree.
    assert f"Version: {kiosk.__version__}\n" in metadata
    # No licence-table deprecation (or any other) while building.
    assert "SetuptoolsDeprecationWarning" not in installed.build_log
    assert "License classifiers are deprecated" not in installed.build_log
