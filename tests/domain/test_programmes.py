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
    assert group.within is not None
    assert (group.within.months, group.within.anchor.name) == (6, "phase.group")
    # Test moments at group sessions only: the 34th group session is the 36th of the programme
    # once the two information sessions are done.
    assert [(m.at_session, m.kinds) for m in group.milestones] == [
        (1, ("group",)),
        (18, ("group",)),
        (34, ("group",)),
    ]
    assert (group.places_of("group"), group.places_of("info_psy")) == (34, 1)
    assert group.replaces("info_ergo") and not group.replaces("group")
    assert phases["pre"].gate_after is not None and group.gate_after is None
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
    assert [(f.kind, f.months, f.anchor.name) for f in p.follow_ups] == [
        ("consultation", 3, "kind.intake"),
        ("consultation", 6, "kind.intake"),
    ]
    advanced = p.phases[-1]
    assert advanced.within is not None
    assert (advanced.within.months, advanced.within.anchor.name) == (12, "kind.intake")
    assert advanced.max_per_week == 1
    assert p.unexcused_absence_limit is None  # the page names no absence rule
    assert not p.once_in_a_lifetime
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
            "stop_after_unexcused_absences = 3",
            "stop_after_unexcused_absences = 0",
            "rules.stop_after_unexcused_absences",
        ),
        ("max_per_week = 2", "max_per_week = 2\ndeadline_monhts = 6", "phases[2].deadline_monhts"),
        ('after = "phase.group"', 'after = "phase.grup"', "phases[2].within.after"),
        ("once_in_a_lifetime = true", 'once_in_a_lifetime = "yes"', "programme.once_in_a_lifetime"),
        ("once_in_a_lifetime = true\n", "", "programme.once_in_a_lifetime"),
        ('replaces = "group"', 'replaces = "info_ergo"', "phases[2].required[0].replaces"),
        ("at_session = 34", "at_session = 35", "phases[2].milestones[2].at_session"),
        ("count = 1", "count = 36", "phases[2].required"),
        (
            'at_session = 1\n  kinds = ["group"]',
            'at_session = 1\n  kinds = ["yoga"]',
            "phases[2].milestones[0].kinds",
        ),
        ('mon = ["08:30"', 'mon = ["8h30"', "timetable.group.mon"),
        ("[kinds.info_psy]\ntitle =", "[kinds.info_psy]\nname =", "kinds.info_psy.name"),
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


def test_a_gate_after_the_last_phase_is_impossible() -> None:
    raw = tomllib.loads((SHIPPED / "rugrevalidatie.toml").read_text(encoding="utf-8"))
    raw["phases"][2]["gate_after"] = {"en": "Another decision"}
    with pytest.raises(ProgrammeError, match=r"^x\.toml: phases\[2\]\.gate_after: "):
        parse_programme(raw, "x.toml")


def test_every_error_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    text = (SHIPPED / "back-and-neck.toml").read_text(encoding="utf-8")
    path.write_text(text.replace("minutes = 30", 'minutes = "half an hour"', 1), encoding="utf-8")
    with pytest.raises(ProgrammeError) as caught:
        load_programme(path)
    assert str(caught.value) == f"{path}: kinds.consultation.minutes: must be int, got str"
