"""Reading programme files, with one clear error naming the file and the field."""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kiosk.programme.model import (
    Billing,
    FollowUp,
    Milestone,
    Phase,
    Programme,
    RequiredSession,
    SessionKind,
    Texts,
)

SHIPPED = Path(__file__).with_name("programmes")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ProgrammeError(ValueError):
    """A programme file is broken; the message names the file and the field."""


class _Fields:
    """Typed access to one TOML table; errors carry the file name and the dotted field path."""

    def __init__(self, source: str, table: Any, path: str) -> None:
        if not isinstance(table, dict):
            raise ProgrammeError(f"{source}: {path}: must be a table")
        self.source, self.table, self.path = source, table, path

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, why: str) -> ProgrammeError:
        return ProgrammeError(f"{self.source}: {self._where(key)}: {why}")

    def sub(self, key: str, *, required: bool = True) -> _Fields:
        if key not in self.table:
            if required:
                raise self.fail(key, "is missing")
            return _Fields(self.source, {}, self._where(key))
        return _Fields(self.source, self.table[key], self._where(key))

    def tables(self, key: str) -> list[_Fields]:
        value = self.table.get(key, [])
        if not isinstance(value, list):
            raise self.fail(key, "must be a list of tables")
        return [_Fields(self.source, v, f"{self._where(key)}[{i}]") for i, v in enumerate(value)]

    def text(self, key: str, default: str | None = None) -> str:
        value = self.table.get(key, default)
        if value is None:
            raise self.fail(key, "is missing")
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise self.fail(key, "must be a non-empty string")
        return value

    def whole(self, key: str, default: int | None = None, *, low: int = 0) -> int:
        value = self.table.get(key, default)
        if value is None:
            raise self.fail(key, "is missing")
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.fail(key, f"must be a whole number of at least {low}")
        return value

    def optional_whole(self, key: str, *, low: int = 1) -> int | None:
        return self.whole(key, low=low) if key in self.table else None

    def flag(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def texts(self, key: str, *, required: bool = True) -> Texts | None:
        if key not in self.table and not required:
            return None
        value = self.table.get(key)
        if (
            not isinstance(value, dict)
            or "en" not in value
            or not all(isinstance(v, str) and v.strip() for v in value.values())
        ):
            raise self.fail(key, "must be a table of texts by language with at least `en`")
        return dict(value)

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a list of strings")
        return tuple(value)


def _texts(fields: _Fields, key: str) -> Texts:
    texts = fields.texts(key)
    assert texts is not None  # required=True never returns None
    return texts


def _phase(fields: _Fields, kinds: Mapping[str, Any]) -> Phase:
    phase_kinds = fields.strings("kinds")
    if not phase_kinds:
        raise fields.fail("kinds", "must name at least one session kind")
    for kind in phase_kinds:
        if kind not in kinds:
            raise fields.fail("kinds", f"names the unknown session kind {kind!r}")
    sessions = fields.optional_whole("sessions")
    milestones = []
    for m in fields.tables("milestones"):
        at = m.whole("at_session", low=1)
        if sessions is not None and at > sessions:
            raise m.fail("at_session", f"is beyond the phase's {sessions} sessions")
        milestones.append(Milestone(at, _texts(m, "title"), m.texts("followed_by", required=False)))
    required = []
    for r in fields.tables("required"):
        kind = r.text("kind")
        if kind not in phase_kinds:
            raise r.fail("kind", f"{kind!r} is not one of this phase's kinds")
        replaces = r.text("replaces", "") or None
        if replaces is not None and replaces not in phase_kinds:
            raise r.fail("replaces", f"{replaces!r} is not one of this phase's kinds")
        required.append(RequiredSession(kind, r.whole("count", low=1), replaces))
    return Phase(
        key=fields.text("key"),
        title=_texts(fields, "title"),
        kinds=phase_kinds,
        sessions=sessions,
        max_per_week=fields.optional_whole("max_per_week"),
        deadline_months=fields.optional_whole("deadline_months"),
        milestones=tuple(milestones),
        required=tuple(required),
        gate_after=fields.texts("gate_after", required=False),
    )


def _time(fields: _Fields, key: str, text: Any) -> dt.time:
    try:
        if not isinstance(text, str) or len(text) != 5:
            raise ValueError
        return dt.time.fromisoformat(text)
    except ValueError:
        raise fields.fail(key, f"{text!r} is not a time of day written HH:MM") from None


def _timetable(
    fields: _Fields, kinds: Mapping[str, Any]
) -> dict[str, dict[int, tuple[dt.time, ...]]]:
    timetable: dict[str, dict[int, tuple[dt.time, ...]]] = {}
    for kind in fields.table:
        if kind not in kinds:
            raise fields.fail(kind, "is not a session kind of this programme")
        day_fields = fields.sub(kind)
        per_day: dict[int, tuple[dt.time, ...]] = {}
        for day, times in day_fields.table.items():
            if day not in WEEKDAYS:
                raise day_fields.fail(day, f"is not a weekday ({', '.join(WEEKDAYS)})")
            if not isinstance(times, list):
                raise day_fields.fail(day, "must be a list of times")
            per_day[WEEKDAYS.index(day)] = tuple(sorted(_time(day_fields, day, t) for t in times))
        timetable[kind] = per_day
    return timetable


def _billing(fields: _Fields, kinds: Mapping[str, Any]) -> Billing | None:
    if not fields.table:
        return None
    billed = fields.strings("kinds")
    if not billed:
        raise fields.fail("kinds", "must name at least one session kind")
    for kind in billed:
        if kind not in kinds:
            raise fields.fail("kinds", f"names the unknown session kind {kind!r}")
    at_most, per_months = fields.optional_whole("at_most"), fields.optional_whole("per_months")
    if (at_most is None) != (per_months is None):
        raise fields.fail("at_most", "and per_months go together")
    return Billing(
        code=fields.text("code"),
        kinds=billed,
        minimum_minutes=fields.whole("minimum_minutes", low=1),
        at_most=at_most,
        per_months=per_months,
    )


def parse_programme(raw: Mapping[str, Any], source: str) -> Programme:
    """Build a :class:`Programme` from a parsed TOML document."""
    top = _Fields(source, dict(raw), "")
    head = top.sub("programme")
    rules = top.sub("rules")
    kinds_fields = top.sub("kinds")
    kinds = {
        key: SessionKind(
            key,
            _texts(kinds_fields.sub(key), "title"),
            kinds_fields.sub(key).whole("minutes", low=1),
        )
        for key in kinds_fields.table
    }
    if not kinds:
        raise kinds_fields.fail("", "must define at least one session kind")
    phases = tuple(_phase(p, kinds) for p in top.tables("phases"))
    if not phases:
        raise top.fail("phases", "must list at least one phase")
    seen: dict[str, str] = {}
    for index, phase in enumerate(phases):
        for kind in phase.kinds:
            if kind in seen:
                raise ProgrammeError(
                    f"{source}: phases[{index}].kinds: {kind!r} "
                    f"already belongs to phase {seen[kind]!r}"
                )
            seen[kind] = phase.key
    reminders = top.sub("reminders", required=False)
    return Programme(
        code=head.text("code"),
        title=_texts(head, "title"),
        source=source,
        kinds=kinds,
        phases=phases,
        billing=_billing(top.sub("billing", required=False), kinds),
        once_in_a_lifetime=head.flag("once_in_a_lifetime", False),
        eligibility=head.strings("eligibility"),
        cancellation_notice_hours=rules.whole("cancellation_notice_hours"),
        late_cancellation_fee_cents=rules.whole("late_cancellation_fee_cents"),
        unexcused_absence_limit=rules.whole("unexcused_absence_limit", low=1),
        cancellation_phone=rules.text("cancellation_phone", ""),
        ends_months_after_start=rules.optional_whole("ends_months_after_start"),
        follow_ups=tuple(
            FollowUp(f.whole("after_months", low=1), _texts(f, "title"))
            for f in top.tables("follow_ups")
        ),
        timetable=_timetable(top.sub("timetable", required=False), kinds),
        reminders={key: _texts(reminders, key) for key in reminders.table},
    )


def load_programme(path: Path) -> Programme:
    """Read one programme file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProgrammeError(f"{path}: cannot be read ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProgrammeError(f"{path}: not valid TOML ({exc})") from None
    return parse_programme(raw, str(path))


def load_programmes(extra_dir: Path | None = None) -> dict[str, Programme]:
    """The shipped programmes plus those in ``extra_dir`` (same code: the extra file wins)."""
    files: Iterable[Path] = sorted(SHIPPED.glob("*.toml"))
    if extra_dir is not None:
        if not extra_dir.is_dir():
            raise ProgrammeError(f"{extra_dir}: the programmes directory does not exist")
        files = [*files, *sorted(extra_dir.glob("*.toml"))]
    programmes: dict[str, Programme] = {}
    for path in files:
        programme = load_programme(path)
        programmes[programme.code] = programme
    return programmes
