"""What sync derives from the event declarations of :mod:`kiosk.domain.events`.

Each payload field's *form* follows from its type in the payload class; both apply paths decode
by form: Python here (:func:`decode`, which gives the refusal reasons), SQL in
:mod:`sync.set_apply` (which hands Python whatever is not in the shape the kiosk writes). The
checks and effects are the declared ones; nothing here knows a kind by name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import Table, UniqueConstraint

from kiosk.domain.event_parts import SITE, Delete, Field, Insert, Kind, Payload, Update
from kiosk.domain.events import KINDS

_NONE: Any = type(None)
# (type, has a default) -> form; see sync.push_sql.SqlField for what each means in SQL.
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


# An instant as ``datetime.isoformat`` writes it, with an offset: narrower than what either
# PostgreSQL or Python parses, and only values both read alike (PostgreSQL takes 24:00 and a 60th
# second, Python neither; Python takes any number of fraction digits). The SQL path
# (:mod:`sync.push_sql`) uses the same expression.
ISO_INSTANT = (
    r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]"
    r":[0-5][0-9](\.[0-9]{3}|\.[0-9]{6})?[+-](0[0-9]|1[0-5]):[0-5][0-9]$"
)
_INSTANT = re.compile(ISO_INSTANT, re.ASCII)
# The largest whole number a payload may hold (18 digits: a bigint, whatever its sign). A number
# written with an exponent (1e3) is whole to jsonb and a float to Python, so the paths would
# differ on it; json.dumps never writes one for an int, and the generated batches hold none.
_INTEGER_LIMIT = 10**18
# Why a field not in the shape its form allows is refused; both paths give these words.
IRREGULAR = {
    "text": "field {name} is missing or not text",
    "text_or_empty": "field {name} is missing or not text",
    "instant": "field {name} is not an instant with its UTC offset",
    "opt_instant": "field {name} is not an instant with its UTC offset",
    "flag": "field {name} is not true or false",
    "integer": "field {name} is not a whole number of at most 18 digits",
}


def malformed(kind: str) -> str:
    """Why a payload that is no JSON object is refused."""
    return f"malformed {kind} payload"


_MISSING = object()


def _instant(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or _INSTANT.match(value) is None:
        return None
    try:
        return dt.datetime.fromisoformat(value).astimezone(dt.UTC)
    except ValueError:  # a day the calendar does not have
        return None


def decode_field(field: FieldForm, payload: Mapping[str, Any]) -> Any:
    """The field's value; raises :class:`Refused` when it is not in the shape of its form."""
    value = payload.get(field.name, _MISSING)
    form = field.form
    if form == "opt_text":
        return value if isinstance(value, str) else None
    if form == "object":
        return value if isinstance(value, dict) else {}
    if value is _MISSING and not field.required and form != "text":
        return field.default
    if form in ("text", "text_or_empty") and isinstance(value, str):
        return value
    if form in ("instant", "opt_instant"):
        if form == "opt_instant" and value in (None, ""):
            return None
        instant = _instant(value)
        if instant is not None:
            return instant
    if form == "flag" and isinstance(value, bool):
        return value
    if (
        form == "integer"
        and isinstance(value, int)
        and not isinstance(value, bool)
        and -_INTEGER_LIMIT < value < _INTEGER_LIMIT
    ):
        return value
    raise Refused(IRREGULAR[form].format(name=field.name))


def decode(kind: Kind, payload: object) -> dict[str, Any]:
    """The payload's values by field, or :class:`Refused` with the reason of the first field
    (in declaration order) that is not in the shape of its form."""
    if not isinstance(payload, dict):
        raise Refused(malformed(kind.name))
    return {f.name: decode_field(f, payload) for f in FORMS[kind.name]}


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
