"""``kiosk alerts``: the open alerts of this kiosk's site, and resolving one with who and why."""

from __future__ import annotations

import argparse

from kiosk.cli.common import UsageError, print_json, settings
from kiosk.core.clock import local
from kiosk.domain import alerts, staff
from kiosk.domain.context import open_context


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``kiosk alerts``."""
    p = sub.add_parser("alerts", help="open alerts; resolve one")
    p.add_argument("action", nargs="?", choices=["resolve"], help="resolve: close alert ID")
    p.add_argument("alert_id", nargs="?", metavar="ID", help="with resolve: the alert's id")
    p.add_argument("--reason", default="", help="with resolve: how it was resolved (kept)")
    p.add_argument("--actor", default="technician", help="with resolve: who (default technician)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_alerts)


def cmd_alerts(args: argparse.Namespace) -> int:
    """List the open alerts, or resolve one (an outbox event tells the centre)."""
    cfg = settings(args)
    if args.action == "resolve" and not args.alert_id:
        raise UsageError("kiosk alerts resolve needs the alert's ID (see kiosk alerts)")
    context = open_context(cfg)
    try:
        if args.action == "resolve":
            try:
                resolved = staff.resolve_alert(
                    context, args.alert_id, actor=args.actor, resolution=args.reason
                )
            except alerts.AlertError as exc:
                raise UsageError(str(exc)) from None
            print(f"alert {resolved} resolved")
            return 0
        found = staff.open_alerts_of(context)
    finally:
        context.close()
    if args.json:
        print_json(
            [
                {
                    "id": a.alert_id,
                    "raised_at": a.raised_at.isoformat(),
                    "kind": a.kind,
                    "message": a.message,
                }
                for a in found
            ]
        )
        return 0
    if not found:
        print("no open alerts")
    for a in found:
        print(f"{a.alert_id}  {local(a.raised_at):%Y-%m-%d %H:%M}  {a.kind:<18} {a.message}")
    return 0
