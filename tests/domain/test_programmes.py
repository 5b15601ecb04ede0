"""Programme files: both seeds as the leaflets describe them, and broken files named clearly."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from kiosk.programme import ProgrammeError, load_programme, load_programmes
from kiosk.programme.loader import SHIPPED, parse_programme


def test_back_rehabilitation_matches_the_leaflet() -> None:
    p = load_programmes()["rugrevalidatie"]
    phases = {ph.key: ph for ph in p.phases}
    assert phases["pre"].sessions == 6
    assert p.kind("individual").minutes == 60
    group = phases["group"]
    assert group.sessions == 36
    assert group.max_per_week == 2
    assert group.deadline_months == 6
    assert [m.at_session for m in group.milestones] == [1, 18, 36]
    assert group.milestones[1].followed_by is not None
    assert [(r.kind, r.count, r.replaces) for r in group.required] == [
        ("info_ergo", 1, "group"),
        ("info_psy", 1, "group"),
    ]
    # 3 test moments + 2 information sessions + 31 exercise sessions.
    assert group.sessions - len(group.milestones) - sum(r.count for r in group.required) == 31
    assert p.kind("group").minutes >= 120  # the insurer's code asks for at least 120 minutes
    assert p.billing is not None and p.billing.code == "558994"
    assert (p.cancellation_notice_hours, p.late_cancellation_fee_cents) == (24, 2900)
    assert p.unexcused_absence_limit == 3
    assert p.once_in_a_lifetime
    t = p.timetable["group"]
    assert (
        t[0]
        == t[2]
        == t[4]
        == tuple(dt.time.fromisoformat(x) for x in ("08:30", "10:00", "13:00", "14:00"))
    )
    assert (
        t[1]
        == t[3]
        == tuple(dt.time.fromisoformat(x) for x in ("13:00", "14:00", "17:00", "17:30"))
    )


def test_back_and_neck_programme() -> None:
    p = load_programmes()["back-and-neck"]
    assert [ph.key for ph in p.phases] == ["consultation", "classes", "physio", "core", "advanced"]
    assert [f.after_months for f in p.follow_ups] == [3, 6]
    assert p.ends_months_after_start == 12
    assert set(p.timetable["advanced"]) == {2, 5}  # Wednesday and Saturday mornings
    assert p.cancellation_notice_hours == 24


def test_a_new_programme_is_a_new_file(tmp_path: Path) -> None:
    text = (SHIPPED / "rugrevalidatie.toml").read_text(encoding="utf-8")
    (tmp_path / "neck.toml").write_text(
        text.replace('code = "rugrevalidatie"', 'code = "neck"'), encoding="utf-8"
    )
    assert set(load_programmes(tmp_path)) == {"rugrevalidatie", "back-and-neck", "neck"}


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("sessions = 36", 'sessions = "many"', "phases[2].sessions"),
        ("at_session = 18", "at_session = 40", "phases[2].milestones[1].at_session"),
        ('kind = "info_psy"', 'kind = "yoga"', "phases[2].required[1].kind"),
        (
            "unexcused_absence_limit = 3",
            "unexcused_absence_limit = 0",
            "rules.unexcused_absence_limit",
        ),
        ('mon = ["08:30"', 'mon = ["8h30"', "timetable.group.mon"),
        ("[kinds.info_psy]\ntitle =", "[kinds.info_psy]\nname =", "kinds.info_psy.title"),
        ('kinds = ["individual"]', 'kinds = ["individual", "group"]', "phases[2].kinds"),
    ],
)
def test_a_broken_file_names_the_file_and_the_field(
    tmp_path: Path, old: str, new: str, field: str
) -> None:
    text = (SHIPPED / "rugrevalidatie.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ProgrammeError) as caught:
        load_programme(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert field in message


def test_not_toml_at_all(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text("[programme\n", encoding="utf-8")
    with pytest.raises(ProgrammeError, match="not valid TOML"):
        load_programme(path)


def test_missing_section() -> None:
    raw = tomllib.loads((SHIPPED / "back-and-neck.toml").read_text(encoding="utf-8"))
    del raw["rules"]
    with pytest.raises(ProgrammeError, match=r"x\.toml: rules: is missing"):
        parse_programme(raw, "x.toml")
