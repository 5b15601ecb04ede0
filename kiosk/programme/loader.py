"""Reading programme files: a typed schema (msgspec, unknown keys refused), then the checks that
span several keys. Every error is one line ``FILE: dotted.key: why``."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar

import msgspec

from kiosk.programme.model import (
    ENROLMENT_ANCHOR,
    Anchor,
    Billing,
    FollowUp,
    Milestone,
    Phase,
    Programme,
    RequiredSession,
    SessionKind,
    TimeLimit,
)

SHIPPED = Path(__file__).with_name("programmes")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Positive = Annotated[int, msgspec.Meta(ge=1)]
NotNegative = Annotated[int, msgspec.Meta(ge=0)]
Name = Annotated[str, msgspec.Meta(min_length=1)]
TextsSchema = dict[str, Name]


_T = TypeVar("_T")


class ProgrammeError(ValueError):
    """A programme file is broken; the message names the file and the key."""


class _Schema(msgspec.Struct, forbid_unknown_fields=True):
    """A table of a programme file: unknown keys are refused."""


class _Head(_Schema):
    code: Name
    title: TextsSchema
    once_in_a_lifetime: bool
    eligibility: list[str] = []


class _Rules(_Schema):
    cancellation_notice_hours: NotNegative
    late_cancellation_fee_cents: NotNegative
    cancellation_phone: str = ""
    stop_after_unexcused_absences: Positive | None = None


class _Kind(_Schema):
    title: TextsSchema
    minutes: Positive


class _Limit(_Schema):
    months: Positive
    after: Name


class _Milestone(_Schema):
    at_session: Positive
    title: TextsSchema
    kinds: list[Name] = []
    followed_by: TextsSchema | None = None


class _Required(_Schema):
    kind: Name
    count: Positive
    replaces: Name | None = None


class _Phase(_Schema):
    key: Name
    title: TextsSchema
    kinds: list[Name]
    sessions: Positive | None = None
    max_per_week: Positive | None = None
    within: _Limit | None = None
    milestones: list[_Milestone] = []
    required: list[_Required] = []
    gate_after: TextsSchema | None = None


class _FollowUp(_Schema):
    title: TextsSchema
    kind: Name
    months: Positive
    after: Name


class _Billing(_Schema):
    code: Name
    kinds: list[Name]
    minimum_minutes: Positive
    at_most: Positive | None = None
    per_months: Positive | None = None


class _File(_Schema):
    programme: _Head
    rules: _Rules
    kinds: dict[str, dict[str, Any]]
    """Converted one by one (:func:`_convert`): msgspec's error path would lose the key."""
    phases: list[_Phase]
    billing: _Billing | None = None
    follow_ups: list[_FollowUp] = []
    timetable: dict[str, dict[str, list[str]]] = {}
    reminders: dict[str, TextsSchema] = {}


_MSGSPEC_ERROR = re.compile(r"^(?P<why>.*?)(?: - at `\$(?P<path>[^`]*)`)?$")
_UNKNOWN_FIELD = re.compile(r"Object contains unknown field `(?P<key>[^`]+)`")
_MISSING_FIELD = re.compile(r"Object missing required field `(?P<key>[^`]+)`")


def _dotted(prefix: str, path: str, key: str | None = None) -> str:
    """``$.phases[1].x`` as ``phases[1].x``, under ``prefix`` (with ``key`` appended)."""
    parts = [prefix, path.removeprefix(".").replace("[...]", ""), key or ""]
    return ".".join(p for p in parts if p).replace(".[", "[")


def _schema_error(source: str, error: msgspec.ValidationError, prefix: str) -> ProgrammeError:
    """msgspec's message as ``FILE: dotted.key: why``."""
    match = _MSGSPEC_ERROR.match(str(error))
    assert match is not None  # the pattern matches any text
    why, path = match["why"], match["path"] or ""
    if unknown := _UNKNOWN_FIELD.match(why):
        where = _dotted(prefix, path, unknown["key"])
        return ProgrammeError(f"{source}: {where}: is not a known key")
    if missing := _MISSING_FIELD.match(why):
        return ProgrammeError(f"{source}: {_dotted(prefix, path, missing['key'])}: is missing")
    why = why.replace("Expected", "must be").replace("`", "")
    return ProgrammeError(f"{source}: {_dotted(prefix, path) or 'the file'}: {why}")


def _convert(source: str, value: object, schema: type[_T], prefix: str = "") -> _T:
    """``value`` as ``schema``, or the error naming the key under ``prefix``."""
    try:
        return msgspec.convert(value, schema)
    except msgspec.ValidationError as exc:
        raise _schema_error(source, exc, prefix) from None


class _Checker:
    """The cross-key checks of one file; :meth:`fail` makes the error naming the key."""

    def __init__(self, source: str, file: _File) -> None:
        self.source, self.file = source, file

    def fail(self, key: str, why: str) -> ProgrammeError:
        return ProgrammeError(f"{self.source}: {key}: {why}")

    def kinds(self, key: str, kinds: Iterable[str], allowed: Iterable[str]) -> tuple[str, ...]:
        allowed = set(allowed)
        kinds = tuple(kinds)
        for kind in kinds:
            if kind not in allowed:
                raise self.fail(key, f"names {kind!r}, not a session kind here")
        return kinds

    def texts(self, key: str, texts: Mapping[str, str]) -> Mapping[str, str]:
        if "en" not in texts:
            raise self.fail(key, "must be a table of texts by language with at least `en`")
        return dict(texts)

    def anchor(self, key: str, name: str) -> Anchor:
        anchor = Anchor(name)
        phases = {p.key for p in self.file.phases}
        if not (
            name == ENROLMENT_ANCHOR
            or (anchor.phase is not None and anchor.phase in phases)
            or (anchor.kind is not None and anchor.kind in self.file.kinds)
        ):
            raise self.fail(
                key, f"{name!r} is not `enrolment`, `phase.KEY` or `kind.KEY` of this file"
            )
        return anchor

    def phase(self, index: int, raw: _Phase) -> Phase:
        where = f"phases[{index}]"
        kinds = self.kinds(f"{where}.kinds", raw.kinds, self.file.kinds)
        if not kinds:
            raise self.fail(f"{where}.kinds", "must name at least one session kind")
        required = []
        for i, r in enumerate(raw.required):
            at = f"{where}.required[{i}]"
            self.kinds(f"{at}.kind", [r.kind], kinds)
            if r.replaces is not None:
                self.kinds(f"{at}.replaces", [r.replaces], kinds)
                if r.replaces == r.kind:
                    raise self.fail(f"{at}.replaces", "a kind cannot replace itself")
            required.append(RequiredSession(r.kind, r.count, r.replaces))
        if raw.sessions is not None and sum(r.count for r in required) >= raw.sessions:
            raise self.fail(f"{where}.required", "leaves no place in the phase's sessions")
        milestones = []
        for i, m in enumerate(raw.milestones):
            at = f"{where}.milestones[{i}]"
            bound = self.kinds(f"{at}.kinds", m.kinds, kinds) or kinds
            phase = Phase(raw.key, {}, kinds, raw.sessions, required=tuple(required))
            places = [phase.places_of(k) for k in bound]
            if raw.sessions is not None and m.at_session > sum(p or 0 for p in places):
                raise self.fail(f"{at}.at_session", "is beyond the sessions of its kinds")
            followed = (
                None if m.followed_by is None else self.texts(f"{at}.followed_by", m.followed_by)
            )
            milestones.append(
                Milestone(m.at_session, self.texts(f"{at}.title", m.title), followed, bound)
            )
        if raw.gate_after is not None and index == len(self.file.phases) - 1:
            raise self.fail(f"{where}.gate_after", "the last phase has no phase after it")
        within = None
        if raw.within is not None:
            within = TimeLimit(
                raw.within.months, self.anchor(f"{where}.within.after", raw.within.after)
            )
        return Phase(
            key=raw.key,
            title=self.texts(f"{where}.title", raw.title),
            kinds=kinds,
            sessions=raw.sessions,
            max_per_week=raw.max_per_week,
            within=within,
            milestones=tuple(milestones),
            required=tuple(required),
            gate_after=None
            if raw.gate_after is None
            else self.texts(f"{where}.gate_after", raw.gate_after),
        )

    def phases(self) -> tuple[Phase, ...]:
        if not self.file.phases:
            raise self.fail("phases", "must list at least one phase")
        phases = tuple(self.phase(i, p) for i, p in enumerate(self.file.phases))
        seen: dict[str, str] = {}
        for index, phase in enumerate(phases):
            if phase.key in {p.key for p in phases[:index]}:
                raise self.fail(f"phases[{index}].key", f"{phase.key!r} is used twice")
            for kind in phase.kinds:
                if kind in seen:
                    raise self.fail(
                        f"phases[{index}].kinds",
                        f"{kind!r} already belongs to phase {seen[kind]!r}",
                    )
                seen[kind] = phase.key
        return phases

    def timetable(self) -> dict[str, dict[int, tuple[dt.time, ...]]]:
        timetable: dict[str, dict[int, tuple[dt.time, ...]]] = {}
        for kind, days in self.file.timetable.items():
            if kind not in self.file.kinds:
                raise self.fail(f"timetable.{kind}", "is not a session kind of this programme")
            per_day: dict[int, tuple[dt.time, ...]] = {}
            for day, times in days.items():
                if day not in WEEKDAYS:
                    raise self.fail(
                        f"timetable.{kind}.{day}", f"is not a weekday ({', '.join(WEEKDAYS)})"
                    )
                per_day[WEEKDAYS.index(day)] = tuple(
                    sorted(self.time(f"timetable.{kind}.{day}", t) for t in times)
                )
            timetable[kind] = per_day
        return timetable

    def time(self, key: str, text: str) -> dt.time:
        try:
            if len(text) != 5:
                raise ValueError
            return dt.time.fromisoformat(text)
        except ValueError:
            raise self.fail(key, f"{text!r} is not a time of day written HH:MM") from None

    def billing(self) -> Billing | None:
        raw = self.file.billing
        if raw is None:
            return None
        kinds = self.kinds("billing.kinds", raw.kinds, self.file.kinds)
        if not kinds:
            raise self.fail("billing.kinds", "must name at least one session kind")
        if (raw.at_most is None) != (raw.per_months is None):
            raise self.fail("billing.at_most", "and per_months go together")
        return Billing(raw.code, kinds, raw.minimum_minutes, raw.at_most, raw.per_months)

    def follow_ups(self) -> tuple[FollowUp, ...]:
        follow_ups = []
        for i, f in enumerate(self.file.follow_ups):
            at = f"follow_ups[{i}]"
            self.kinds(f"{at}.kind", [f.kind], self.file.kinds)
            follow_ups.append(
                FollowUp(
                    self.texts(f"{at}.title", f.title),
                    f.kind,
                    f.months,
                    self.anchor(f"{at}.after", f.after),
                )
            )
        return tuple(follow_ups)


def parse_programme(raw: Mapping[str, Any], source: str) -> Programme:
    """Build a :class:`Programme` from a parsed TOML document."""
    file = _convert(source, dict(raw), _File)
    check = _Checker(source, file)
    if not file.kinds:
        raise check.fail("kinds", "must define at least one session kind")
    kinds = {}
    for key, value in file.kinds.items():
        kind = _convert(source, value, _Kind, f"kinds.{key}")
        kinds[key] = SessionKind(key, check.texts(f"kinds.{key}.title", kind.title), kind.minutes)
    head, rules = file.programme, file.rules
    return Programme(
        code=head.code,
        title=check.texts("programme.title", head.title),
        source=source,
        kinds=kinds,
        phases=check.phases(),
        once_in_a_lifetime=head.once_in_a_lifetime,
        billing=check.billing(),
        eligibility=tuple(head.eligibility),
        cancellation_notice_hours=rules.cancellation_notice_hours,
        late_cancellation_fee_cents=rules.late_cancellation_fee_cents,
        unexcused_absence_limit=rules.stop_after_unexcused_absences,
        cancellation_phone=rules.cancellation_phone,
        follow_ups=check.follow_ups(),
        timetable=check.timetable(),
        reminders={
            key: check.texts(f"reminders.{key}", texts) for key, texts in file.reminders.items()
        },
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
