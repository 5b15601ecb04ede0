"""What sync derives from the event declarations of :mod:`kiosk.domain.events`.

Each payload field's *form* follows from its type in the payload class; both apply paths decode
by form: Python here (:func:`decode`, which gives the refusal reasons), SQL in
:mod:`sync.set_apply` (which hands Python whatever is not in the shape the kiosk writes). The
checks and effects are the declared ones; nothing here knows a kind by name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import Table, UniqueConstraint

from kiosk.domain.event_parts import SITE, Delete, Field, Insert, Kind, Payload, Update
from kiosk.domain.events import KINDS

_NONE: Any = type(None)
# (type, has a default) -> form; see sync.set_apply._Field for what each means in SQL.
_FORMS: dict[tuple[Any, bool], str] = {
    (str, False): "text",
    (str, True): "text_or_empty",
    (str | None, True): "opt_text",
    (dt.datetime, False): "instant",
    (dt.datetime | None, True): "opt_instant",
    (bool, True): "flag",
    (int, False): "integer",
    (int, True): "integer",
    (dict[str, object], True): "object",
}


@dataclass(frozen=True)
class FieldForm:
    """A payload field: its name, form, and default when absent (``required`` if none)."""

    name: str
    form: str
    default: Any
    required: bool


def forms(payload: type[Payload]) -> tuple[FieldForm, ...]:
    """The payload's fields with their forms (a type with no form is a declaration error)."""
    found = []
    for f in msgspec.structs.fields(payload):
        key = (f.type, not f.required)
        if key not in _FORMS:
            raise TypeError(f"{payload.__name__}.{f.name}: no payload form for {f.type}")
        default = None if f.required else f.default
        if f.default_factory is not msgspec.NODEFAULT:
            default = f.default_factory()
        found.append(FieldForm(f.name, _FORMS[key], default, f.required))
    return tuple(found)


FORMS: Mapping[str, tuple[FieldForm, ...]] = {k.name: forms(k.payload) for k in KINDS}
# Kinds whose effects are plain inserts: their order within a batch does not matter.
COMMUTING = frozenset(k.name for k in KINDS if k.commutes)


def inserted(kind: Kind) -> Table:
    """The table a commuting kind inserts into."""
    effect = kind.effects[0]
    assert isinstance(effect, Insert)
    return effect.table


# Their flush order: any would do; both paths use this one, tables without a change number first.
FLUSH_ORDER = tuple(
    sorted(
        (k.name for k in KINDS if k.commutes),
        key=lambda name: "change_seq" in inserted(next(k for k in KINDS if k.name == name)).c,
    )
)


class Refused(ValueError):
    """The centre does not take this event; the message says why (no personal data)."""


def _time(value: object, key: str) -> dt.datetime:
    instant = dt.datetime.fromisoformat(str(value))
    if instant.tzinfo is None:
        raise Refused(f"field {key} has no UTC offset")
    return instant.astimezone(dt.UTC)


def _text(value: object, key: str) -> str:
    if not isinstance(value, str):
        raise Refused(f"field {key} is missing or not text")
    return value


_MISSING = object()


def _value(field: FieldForm, payload: Mapping[str, Any]) -> Any:
    value = payload.get(field.name, _MISSING)
    if value is _MISSING and field.form not in ("text", "opt_text", "opt_instant"):
        if field.required:
            raise KeyError(field.name)
        return field.default
    if field.form in ("text", "text_or_empty"):
        return _text(value, field.name)
    if field.form == "opt_text":
        return value if isinstance(value, str) else None
    if field.form == "instant":
        return _time(value, field.name)
    if field.form == "opt_instant":
        return _time(value, field.name) if value not in (_MISSING, None, "") else None
    if field.form == "flag":
        return bool(value)
    if field.form == "integer":
        number = int(value)
        if not -(2**63) < number < 2**63:
            raise Refused(f"field {field.name} is out of range")
        return number
    return value if isinstance(value, dict) else {}


def decode(kind: Kind, payload: object) -> dict[str, Any]:
    """The payload's values by field, or :class:`Refused` with the reason."""
    try:
        if not isinstance(payload, dict):
            raise TypeError
        return {f.name: _value(f, payload) for f in FORMS[kind.name]}
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, Refused):
            raise
        raise Refused(f"malformed {kind.name} payload ({exc.__class__.__name__})") from None


def arbiter(table: Table) -> str:
    """The clash that means "already there": one row per booking where the table says so, else
    the row's own id."""
    unique = {
        tuple(c.name for c in u.columns)
        for u in table.constraints
        if isinstance(u, UniqueConstraint)
    }
    return "booking_id" if ("booking_id",) in unique else "id"


def resolve(value: object, values: Mapping[str, Any], site_id: str) -> Any:
    """A declared value: a payload field's, the pushing kiosk's site, or the constant."""
    if isinstance(value, Field):
        return values[value.name]
    return site_id if value == SITE else value


def owned_rows(kind: Kind) -> tuple[tuple[str, str, str], ...]:
    """(table, column, payload field holding its value) of each row the kind changes."""
    found: list[tuple[str, str, str]] = []
    for effect in kind.effects:
        if isinstance(effect, Insert):
            key = arbiter(effect.table)
            found.append((effect.table.name, key, key))
        elif isinstance(effect, Update | Delete):
            column, field = next((c, v) for c, v in effect.where.items() if isinstance(v, Field))
            found.append((effect.table.name, column, field.name))
    return tuple(dict.fromkeys(found))


def write_privileges() -> dict[str, set[str]]:
    """What the effects of every kind need on each table (the kiosk role's write grants)."""
    needs: dict[str, set[str]] = {}
    for kind in KINDS:
        for effect in kind.effects:
            table = needs.setdefault(effect.table.name, set())
            if isinstance(effect, Insert):
                table.add("INSERT")
                if effect.refresh:
                    table.add("UPDATE")
            else:
                table.add("UPDATE" if isinstance(effect, Update) else "DELETE")
    return needs
