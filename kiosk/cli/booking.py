"""``kiosk booking`` and ``kiosk enrolment``: reception's actions as commands, for technicians
and scripts. Each says what it did in one line (or ``--json``); a refused action is one sentence
on stderr and exit code 2."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from kiosk.cli.common import UsageError, parse_time, print_json, settings
from kiosk.domain.attendance import Attendance, AttendanceError
from kiosk.domain.context import open_context
from kiosk.domain.gates import Decision, GateError, record_decision

ACTIONS = ("cancel", "excuse", "present", "undo", "admit")
NEEDS_REASON = frozenset({"excuse", "present", "undo", "admit"})


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``kiosk booking`` and ``kiosk enrolment``."""
    p = sub.add_parser("booking", help="cancel, excuse, correct, undo or admit one booking")
    p.add_argument("action", choices=ACTIONS)
    p.add_argument("booking_id", metavar="BOOKING", help="the booking's id (kiosk today --json)")
    p.add_argument("--reason", default="", help="why (kept in the audit trail)")
    p.add_argument(
        "--called-at",
        type=parse_time,
        help="with cancel: when the patient called (local time; the fee follows from it)",
    )
    p.add_argument("--actor", default="technician", help="who (default technician)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_booking)

    p = sub.add_parser("enrolment", help="resume a stopped programme or record a team decision")
    p.add_argument("action", choices=("resume", "decide"))
    p.add_argument("enrolment_id", metavar="ENROLMENT", help="the enrolment's id")
    p.add_argument(
        "--reason", required=True, help="the physician's or the team's decision, in words (kept)"
    )
    p.add_argument("--gate", help="with decide: the gate (the phase it follows, e.g. pre)")
    choice = p.add_mutually_exclusive_group()
    choice.add_argument("--go", action="store_true", help="with decide: the next phase may begin")
    choice.add_argument(
        "--alternative",
        action="store_true",
        help="with decide: an alternative plan (the programme stops)",
    )
    p.add_argument("--actor", default="technician", help="who (default technician)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_enrolment)


def _with_attendance(args: argparse.Namespace, act: Callable[[Attendance], dict[str, Any]]) -> int:
    if getattr(args, "action", "") in NEEDS_REASON and not args.reason.strip():
        raise UsageError(f"kiosk booking {args.action} needs --reason")
    context = open_context(settings(args))
    try:
        report = act(context.attendance())
    except AttendanceError as exc:
        raise UsageError(str(exc)) from None
    finally:
        context.close()
    if args.json:
        print_json(report)
    else:
        print(report["done"])
    return 0


def cmd_booking(args: argparse.Namespace) -> int:
    """One reception action on one booking."""
    booking, reason, actor = args.booking_id, args.reason, args.actor
    if args.called_at is not None and args.action != "cancel":
        raise UsageError("--called-at goes with kiosk booking cancel only")

    def act(attendance: Attendance) -> dict[str, Any]:
        report: dict[str, Any] = {"booking_id": booking, "action": args.action}
        if args.action == "cancel":
            cancelled = attendance.cancel(
                booking, reason=reason, actor=actor, called_at=args.called_at
            )
            fee = cancelled.fee_cents
            report |= {
                "called_at": cancelled.cancelled_at.isoformat(),
                "notice_minutes": cancelled.notice_minutes,
                "fee_cents": fee,
                "done": f"cancelled, {cancelled.notice_minutes} minutes' notice, "
                + (f"fee {fee / 100:.2f} EUR" if fee else "no fee"),
            }
        elif args.action == "excuse":
            attendance.excuse(booking, reason=reason, actor=actor)
            report["done"] = "absence excused"
        elif args.action == "present":
            attendance.mark_present(booking, reason=reason, actor=actor)
            report["done"] = "absence corrected: present"
        elif args.action == "undo":
            what = attendance.undo(booking, reason=reason, actor=actor)
            report |= {"undone": what, "done": f"{what} undone"}
        else:
            admitted = attendance.admit(booking, reason=reason, actor=actor)
            report |= {
                "checkin_id": admitted.checkin_id,
                "late": admitted.late,
                "short_code": admitted.short_code,
                "done": "admitted"
                + (f", parking code {admitted.short_code}" if admitted.short_code else ""),
            }
        return report

    return _with_attendance(args, act)


def cmd_enrolment(args: argparse.Namespace) -> int:
    """Resume a stopped programme on the physician's decision, or record the team's decision."""
    enrolment, reason, actor = args.enrolment_id, args.reason, args.actor
    if args.action == "decide":
        return _decide(args)
    if args.gate is not None or args.go or args.alternative:
        raise UsageError("--gate, --go and --alternative go with kiosk enrolment decide only")

    def act(attendance: Attendance) -> dict[str, Any]:
        attendance.resume(enrolment, reason=reason, actor=actor)
        return {"enrolment_id": enrolment, "action": "resume", "done": "programme resumed"}

    return _with_attendance(args, act)


def _decide(args: argparse.Namespace) -> int:
    if not args.gate or not (args.go or args.alternative):
        raise UsageError("kiosk enrolment decide needs --gate and one of --go or --alternative")
    if not args.reason.strip():
        raise UsageError("kiosk enrolment decide needs --reason")
    decision: Decision = "go" if args.go else "alternative"
    context = open_context(settings(args))
    try:
        record_decision(
            context.sessions,
            context.programmes,
            context.clock,
            kiosk_id=context.settings.kiosk_id,
            enrolment_id=args.enrolment_id,
            gate=args.gate,
            decision=decision,
            reason=args.reason,
            actor=args.actor,
        )
    except GateError as exc:
        raise UsageError(str(exc)) from None
    finally:
        context.close()
    done = (
        f"team decision at {args.gate}: go"
        if decision == "go"
        else f"team decision at {args.gate}: alternative plan, programme stopped"
    )
    report = {
        "enrolment_id": args.enrolment_id,
        "action": "decide",
        "gate": args.gate,
        "decision": decision,
        "done": done,
    }
    if args.json:
        print_json(report)
    else:
        print(done)
    return 0
