"""``make catalogs`` as a translator runs it, on a copy of the tree: it takes texts from every
place that marks them and leaves the catalogues as ``tests/ui/test_translations.py`` wants them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from kiosk.core.i18n import LANGUAGES

REPO = Path(__file__).resolve().parents[2]
LOCALE = Path("kiosk/core/locale")
NEW_TEXT = "A text the domain has just added"


def _copy_of_the_tree(target: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if (REPO / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)


def _make_catalogs(tree: Path) -> None:
    # This test's venv; -o: take its installation as done (never pip-install into it from here).
    venv = Path(sys.prefix)
    done = subprocess.run(
        ["make", "-s", "-o", str(venv / "bin" / ".installed"), "catalogs", f"VENV={venv}"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def _catalogue(tree: Path, language: str) -> dict[str, tuple[str, bool]]:
    with (tree / LOCALE / language / "LC_MESSAGES" / "kiosk.po").open("rb") as handle:
        po = read_po(handle)
    return {str(m.id): (str(m.string), m.fuzzy) for m in po if isinstance(m.id, str) and m.id} | {
        f"obsolete: {key}": ("", False) for key in po.obsolete
    }


def test_make_catalogs_leaves_the_committed_catalogues_as_they_are(tmp_path: Path) -> None:
    # The catalogues in the repository are what the target writes: running it changes nothing,
    # and the printed ticket's texts (outside kiosk/ui) stay translated, not obsolete.
    _copy_of_the_tree(tmp_path)
    _make_catalogs(tmp_path)
    for language in LANGUAGES:
        po = f"{LOCALE}/{language}/LC_MESSAGES/kiosk.po"
        assert (tmp_path / po).read_bytes() == (REPO / po).read_bytes(), po
        texts = _catalogue(tmp_path, language)
        assert texts["Parking ticket"][0], language
        assert not any(key.startswith("obsolete: ") for key in texts), language


def test_make_catalogs_adds_a_new_text_from_any_package_to_all_four(tmp_path: Path) -> None:
    _copy_of_the_tree(tmp_path)
    module = tmp_path / "kiosk/domain/parking/printing.py"
    module.write_text(
        module.read_text(encoding="utf-8") + f"\n\nLATER = N_({NEW_TEXT!r})\n", encoding="utf-8"
    )
    _make_catalogs(tmp_path)
    for language in LANGUAGES:
        texts = _catalogue(tmp_path, language)
        # Untranslated until a translator fills it in (test_translations names it till then).
        assert texts[NEW_TEXT] == ("", False), language
        assert texts["Free exit until {time}"][0], language
