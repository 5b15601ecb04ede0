"""Commands on the kiosk's own data: demo-data, checkin, today, close-day."""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from devices.eid.national_number import InvalidNationalNumber
from kiosk.cli.common import (
    UsageError,
    parse_date,
    parse_time,
    print_json,
    settings,
)
from kiosk.core.clock import BRUSSELS, SettableClock, SystemClock, local
from kiosk.core.config import Settings, demo_config_text, load
from kiosk.core.writing import write_whole
from kiosk.db.files import database_files, sqlite_path
from kiosk.domain import demo, demo_database, staff
from kiosk.domain.attendance import AttendanceError
from kiosk.domain.checkin import IdentityEvidence
from kiosk.domain.context import KioskContext, open_context, redacted_url
from kiosk.domain.outcomes import CheckinResult
from kiosk.programme.model import text_in


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's commands."""
    p = sub.add_parser("demo-data", help="fill the database with a believable demo centre")
    p.add_argument("--patients", type=int, default=200, help="how many patients (default 200)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--if-empty", action="store_true", help="do nothing when a database exists")
    p.add_argument("--force", action="store_true", help="replace an existing database")
    p.add_argument(
        "--central", action="store_true", help="fill the central database instead of the kiosk's"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_demo_data)

    p = sub.add_parser("checkin", help="check a patient in without a screen")
    p.add_argument("--national-number", required=True, metavar="N")
    p.add_argument("--at", type=parse_time, help="the moment (YYYY-MM-DDTHH:MM, local time)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_checkin)

    p = sub.add_parser("today", help="the day's sessions and who is expected, arrived, absent")
    p.add_argument("--date", type=parse_date, help="the day (YYYY-MM-DD, default today)")
    p.add_argument(
        "--central", action="store_true", help="the day as the centre sees it (every kiosk, site)"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_today)

    p = sub.add_parser(
        "close-day", help="turn the no-shows of the day's ended sessions into absences"
    )
    p.add_argument("--date", type=parse_date, help="the day (YYYY-MM-DD, default today)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_close_day)


def _context(args: argparse.Namespace, *, at: dt.datetime | None = None) -> KioskContext:
    clock = SettableClock(at, running=False) if at is not None else SystemClock()
    return open_context(settings(args), clock=clock)


def _day(args: argparse.Namespace) -> dt.date:
    day: dt.date | None = args.date
    return day if day is not None else dt.datetime.now(BRUSSELS).date()


def cmd_demo_data(args: argparse.Namespace) -> int:
    """Write a demo configuration (when there is none) and fill a fresh demo database.

    A run that fails (a full disk, a broken programme file) removes what it created, so the
    next ``--if-empty`` does not find half a demo and keep it.
    """
    if args.patients < 1 or args.patients > 100_000:
        raise UsageError("--patients must be from 1 to 100000")
    created: list[Path] = []
    try:
        return _demo_data(args, settings(args), created)
    except BaseException:
        for path in reversed(created):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        raise


def _demo_data(args: argparse.Namespace, cfg: Settings, created: list[Path]) -> int:
    """The demo data command; every path it is about to create is appended to ``created``."""

    def creating(path: Path) -> Path:
        if not path.exists():
            created.append(path)
        return path

    if cfg.source is None:
        for folder in (*reversed(cfg.data_dir.parents), cfg.data_dir):
            creating(folder)
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        path = creating(cfg.data_dir / "kiosk.toml")
        write_whole(path, demo_config_text(cfg.data_dir), mode=0o600)
        cfg = load(path)
    url = cfg.central_url if args.central else cfg.local_url
    try:
        kept = demo_database.make_room(url, if_empty=args.if_empty, replace=args.force)
    except demo_database.DemoTargetTaken as exc:
        hint = "add --force to replace it" if exc.replaceable else "demo data needs an empty one"
        raise UsageError(f"{exc}; {hint}") from None
    if kept is not None:
        print(kept)
        return 0
    database = sqlite_path(url)
    if database is not None:
        for file in database_files(database):
            creating(file)
    creating(cfg.data_dir / "cards")
    context = open_context(cfg, url=url, create=True)
    try:
        summary = demo_database.fill(
            context,
            patients=args.patients,
            seed=args.seed,
            sites=[(cfg.site_id, f"Campus {cfg.site_id.title()}")],
        )
    finally:
        context.close()
    cards = demo.write_cards(summary.patients, cfg.data_dir / "cards")
    report = {
        "config": str(cfg.source),
        "cards": str(cards.parent),
        "database": str(sqlite_path(url) or redacted_url(url)),
        "patients": len(summary.patients),
        "sessions": summary.sessions,
        "bookings": summary.bookings,
        "checkins": summary.checkins,
        "absences": summary.absences,
    }
    if args.json:
        print_json(report)
    else:
        print("\n".join(f"{k}: {v}" for k, v in report.items()))
    return 0


def describe(result: CheckinResult, language: str = "en") -> str:
    """A plain-words summary of a check-in outcome for a terminal."""
    lines = [f"outcome: {result.outcome}"]
    if result.display_name:
        lines.append(f"patient: {result.display_name}")
    if result.session is not None:
        start = local(result.session.starts_at)
        lines.append(
            f"session: {text_in(result.session.kind_title, language)} at {start:%H:%M}"
            + (f", {result.session.room}" if result.session.room else "")
        )
    if result.progress is not None:
        total = f" of {result.progress.total}" if result.progress.total else ""
        lines.append(
            f"progress: {text_in(result.progress.phase_title, language)}, "
            f"session {result.progress.number}{total}"
        )
    for special in result.specials:
        then = (
            f", followed by {text_in(special.followed_by, language)}" if special.followed_by else ""
        )
        lines.append(f"today: {text_in(special.title, language)}{then}")
    for reminder in result.reminders:
        lines.append(
            f"reminder: {reminder.code}"
            + (
                f" ({text_in(reminder.title, language)})"
                if reminder.title
                else f" ({reminder.count}{'/' + str(reminder.limit) if reminder.limit else ''}"
                f"{', ' + reminder.date.isoformat() if reminder.date else ''})"
            )
        )
    if result.opens_at is not None:
        lines.append(f"check-in opens at {local(result.opens_at):%H:%M}")
    if result.parking is not None:
        lines.append(
            f"parking: {result.parking.short_code} (valid until "
            f"{local(result.parking.expires_at):%H:%M})"
        )
    if not result.outcome.admitted and result.outcome != "too_early":
        lines.append("please go to reception")
    return "\n".join(lines)


def result_json(result: CheckinResult) -> dict[str, Any]:
    """The stable JSON form of a check-in outcome."""
    session = result.session
    return {
        "outcome": str(result.outcome),
        "first_name": result.display_name,
        "session_start": session.starts_at.isoformat() if session else None,
        "session_end": session.ends_at.isoformat() if session else None,
        "session_kind": session.kind if session else None,
        "room": session.room if session else None,
        "late": result.late,
        "checked_in_at": result.checked_in_at.isoformat() if result.checked_in_at else None,
        "opens_at": result.opens_at.isoformat() if result.opens_at else None,
        "progress": (
            {
                "phase": result.progress.phase,
                "number": result.progress.number,
                "total": result.progress.total,
            }
            if result.progress
            else None
        ),
        "specials": [
            {
                "code": s.code,
                "title": s.title.get("en", ""),
                "followed_by": s.followed_by.get("en", "") if s.followed_by else "",
            }
            for s in result.specials
        ],
        "reminders": [
            {
                "code": r.code,
                "count": r.count,
                "limit": r.limit,
                "date": r.date.isoformat() if r.date else None,
            }
            for r in result.reminders
        ],
        "parking": (
            {
                "payload": result.parking.payload,
                "short_code": result.parking.short_code,
                "expires_at": result.parking.expires_at.isoformat(),
            }
            if result.parking
            else None
        ),
    }


def cmd_checkin(args: argparse.Namespace) -> int:
    """Headless check-in: exit 0 when checked in (also again), 1 for any refusal."""
    try:
        evidence = IdentityEvidence(args.national_number, method="command")
    except InvalidNationalNumber as exc:
        raise UsageError(str(exc)) from None
    context = _context(args, at=args.at)
    try:
        result = context.checkin_engine().check_in(evidence)
    finally:
        context.close()
    if args.json:
        print_json(result_json(result))
    else:
        print(describe(result))
    return 0 if result.outcome.admitted else 1


def cmd_today(args: argparse.Namespace) -> int:
    """Print the day's sessions per start time with each patient's status."""
    cfg = settings(args)
    url = cfg.central_url if args.central else None
    context = open_context(cfg, url=url)
    try:
        sessions = staff.day_of(context, _day(args), every_site=args.central)
    finally:
        context.close()
    if args.json:
        print_json(
            [
                {
                    "start": s.starts_at.isoformat(),
                    "end": s.ends_at.isoformat(),
                    "kind": s.kind,
                    "room": s.room,
                    "programme": s.programme_code,
                    "problem": s.problem,
                    "patients": [
                        {
                            "national_number": a.national_number,
                            "first_name": a.first_name,
                            "last_name": a.last_name,
                            "status": str(a.status),
                            "checked_in_at": a.checked_in_at.isoformat()
                            if a.checked_in_at
                            else None,
                            "booking_id": a.booking_id,
                            "enrolment_id": a.enrolment_id,
                            "enrolment_status": a.enrolment_status,
                        }
                        for a in s.attendees
                    ],
                }
                for s in sessions
            ]
        )
        return 0
    if not sessions:
        print(f"no sessions on {_day(args).isoformat()}")
    for s in sessions:
        print(
            f"{local(s.starts_at):%H:%M} {text_in(s.kind_title, 'en')} ({s.room}): "
            f"{len(s.attendees)} booked"
        )
        if s.problem:
            print(f"   cannot follow this session: {s.problem}")
        for a in s.attendees:
            when = f" {local(a.checked_in_at):%H:%M}" if a.checked_in_at else ""
            print(f"   {a.status:<9}{when:<6} {a.first_name} {a.last_name}")
    return 0


def cmd_close_day(args: argparse.Namespace) -> int:
    """Record the day's absences; stops enrolments at the limit."""
    context = _context(args)
    try:
        closed = context.attendance().close_day(_day(args), actor="command")
    except AttendanceError as exc:
        raise UsageError(f"{exc}: {_day(args)}") from None
    finally:
        context.close()
    report = {
        "date": closed.day.isoformat(),
        "absences": closed.absences,
        "stopped": closed.stopped_enrolments,
        "already_closed": closed.already_closed,
        "not_over": closed.not_over,
        "refused": closed.refused,
    }
    if args.json:
        print_json(report)
    else:
        print(
            f"{closed.day}: {closed.absences} absences recorded, "
            f"{closed.stopped_enrolments} programmes stopped, "
            f"{closed.not_over} sessions not over yet left alone, "
            f"{closed.refused} refused at the kiosk without absence"
        )
    return 0
