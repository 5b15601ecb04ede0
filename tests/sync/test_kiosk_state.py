"""What the kiosk changes travels through the outbox, and a pull never undoes it: printed tickets,
alerts and their lifecycle, ticket numbers of every valid kiosk number, and the loud failures of
a kiosk configured like another."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from devices.printer.file_printer import FileTicketPrinter
from devices.printer.simulated_faults import FaultyPrinter
from kiosk.db.engine import make_engine, session_factory
from kiosk.db.models import Alert, OutboxEvent, ParkingTicket
from kiosk.domain import alerts
from kiosk.domain.parking.printing import ALERT_KIND, print_ticket
from kiosk.programme import Programme
from sync import central
from sync.apply import TICKET_NUMBER_TAKEN
from sync.pull import pull
from sync.push import requeue_set_aside
from sync.service import SyncService
from tests.sync.conftest import Kiosk, fill_centre

TODAY = dt.date(2026, 3, 2)


def _check_in_one(kiosk: Kiosk, index: int = 0) -> str:
    """Check in the index-th patient booked today; the id of the ticket issued."""
    patient_id, _booking, starts = kiosk.bookings_on(TODAY)[index]
    result = kiosk.checkin.check_in_patient(patient_id, actor="t", note="t", at=starts)
    assert result.outcome == "checked_in" and result.parking is not None
    return result.parking.ticket_id


def _print(kiosk: Kiosk, printer: FaultyPrinter, ticket_id: str) -> bool:
    outcome = print_ticket(
        kiosk.sessions, printer, ticket_id, settings=kiosk.settings, clock=kiosk.clock
    )
    return outcome.printed


def _centre_ticket(url: str, ticket_id: str) -> ParkingTicket | None:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as db:
            ticket = db.get(ParkingTicket, ticket_id)
            if ticket is not None:
                db.expunge(ticket)
            return ticket
    finally:
        engine.dispose()


def _centre_alerts(url: str) -> list[Alert]:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as db:
            found = list(db.scalars(select(Alert).order_by(Alert.raised_at)))
            db.expunge_all()
            return found
    finally:
        engine.dispose()


@pytest.fixture
def printer(tmp_path: Path) -> FaultyPrinter:
    return FaultyPrinter(FileTicketPrinter(tmp_path / "tickets"))


def test_a_printed_ticket_stays_printed_and_its_state_reaches_the_centre(
    central_url: str,
    programmes: dict[str, Programme],
    make_kiosk: Callable[..., Kiosk],
    printer: FaultyPrinter,
) -> None:
    fill_centre(central_url, programmes)
    kiosk = make_kiosk(central_url, tickets=True)
    assert kiosk.sync.run_round().error == ""
    ticket_id = _check_in_one(kiosk)
    assert _print(kiosk, printer, ticket_id)
    # The round pushes the ticket, then pulls the centre's copy of it back.
    assert kiosk.sync.run_round().error == ""
    with kiosk.sessions() as db:
        local = db.get(ParkingTicket, ticket_id)
        assert local is not None and local.printed_at is not None
    at_centre = _centre_ticket(central_url, ticket_id)
    assert at_centre is not None and at_centre.printed_at == local.printed_at

    # Printed again (a reprint) while the centre changes the same row (the exit redeems it):
    # a pull before the print's event went up must not write the centre's older row back.
    printer_out = print_ticket(
        kiosk.sessions,
        printer,
        ticket_id,
        settings=kiosk.settings,
        clock=kiosk.clock,
        reprint=True,
    )
    assert printer_out.printed
    engine = make_engine(central_url)
    with engine.begin() as conn:
        conn.execute(
            ParkingTicket.__table__.update()
            .where(ParkingTicket.__table__.c.id == ticket_id)
            .values(print_error="changed at the centre")
        )
    engine.dispose()
    pull(kiosk.sessions, kiosk.sync.central, site_id="GENK", clock=kiosk.clock)
    with kiosk.sessions() as db:
        reprinted = db.get(ParkingTicket, ticket_id)
        assert reprinted is not None and reprinted.printed_at is not None
        assert reprinted.printed_at > local.printed_at or kiosk.clock.now() == local.printed_at
        assert reprinted.print_error == ""
    assert kiosk.sync.run_round().error == ""
    at_centre = _centre_ticket(central_url, ticket_id)
    assert at_centre is not None and at_centre.print_error == ""
    # The patient taps again: no second paper.
    again = print_ticket(
        kiosk.sessions, printer, ticket_id, settings=kiosk.settings, clock=kiosk.clock
    )
    assert again.already_printed and not again.printed
    assert (
        len(list((kiosk.settings.data_dir / "tickets").glob("*.txt"))) == 2
    )  # one file per ticket, reprints overwrite


def test_printer_alerts_are_raised_and_resolved_at_the_centre_too(
    central_url: str,
    programmes: dict[str, Programme],
    make_kiosk: Callable[..., Kiosk],
    printer: FaultyPrinter,
) -> None:
    fill_centre(central_url, programmes)
    kiosk = make_kiosk(central_url, tickets=True)
    kiosk.sync.run_round()
    first = _check_in_one(kiosk, 0)
    printer.set_fault("out_of_paper")
    assert not _print(kiosk, printer, first)
    assert kiosk.sync.run_round().error == ""
    (raised,) = [a for a in _centre_alerts(central_url) if a.kind == ALERT_KIND]
    assert raised.resolved_at is None
    at_centre = _centre_ticket(central_url, first)
    assert at_centre is not None and at_centre.printed_at is None and at_centre.print_error

    printer.set_fault(None)
    assert _print(kiosk, printer, first)
    assert kiosk.sync.run_round().error == ""
    (resolved,) = [a for a in _centre_alerts(central_url) if a.kind == ALERT_KIND]
    assert resolved.resolved_at is not None and resolved.resolved_by == "kiosk"
    at_centre = _centre_ticket(central_url, first)
    assert at_centre is not None and at_centre.printed_at is not None
    assert at_centre.print_error == ""


def test_any_alert_is_seen_and_resolved_with_who_and_how(
    central_url: str, programmes: dict[str, Programme], make_kiosk: Callable[..., Kiosk]
) -> None:
    fill_centre(central_url, programmes)
    kiosk = make_kiosk(central_url)
    kiosk.sync.run_round()
    with kiosk.sessions() as db, db.begin():
        alert_id = alerts.raise_alert(
            db, now=kiosk.clock.now(), kind="programme_stopped", site_id="GENK", message="m"
        ).id
    kiosk.sync.run_round()
    with kiosk.sessions() as db, db.begin():
        alerts.mark_seen(db, alert_id, now=kiosk.clock.now(), actor="reception")
    with kiosk.sessions() as db, db.begin():
        alerts.resolve(
            db,
            alert_id,
            now=kiosk.clock.now(),
            actor="reception",
            resolution="physician: resume",
        )
    with kiosk.sessions() as db, db.begin(), pytest.raises(alerts.AlertError):
        alerts.resolve(db, alert_id, now=kiosk.clock.now(), actor="reception")
    assert kiosk.sync.run_round().error == ""
    (alert,) = [a for a in _centre_alerts(central_url) if a.id == alert_id]
    assert alert.seen_at is not None and alert.resolved_at is not None
    assert (alert.resolved_by, alert.resolution) == ("reception", "physician: resume")
    with kiosk.sessions() as db:
        assert alerts.open_alerts(db, site_id="GENK") == []


def test_tickets_of_the_highest_kiosk_number_reach_the_centre(
    central_url: str, programmes: dict[str, Programme], make_kiosk: Callable[..., Kiosk]
) -> None:
    fill_centre(central_url, programmes)
    kiosk = make_kiosk(central_url, number=99, tickets=True)
    kiosk.sync.run_round()
    ticket_id = _check_in_one(kiosk)
    report = kiosk.sync.run_round()
    assert report.error == "" and report.push is not None and not report.push.refused
    at_centre = _centre_ticket(central_url, ticket_id)
    assert at_centre is not None and at_centre.ticket_number > 2**31


def test_a_second_kiosk_with_the_same_number_is_refused_loudly_and_still_pulls(
    central_url: str, programmes: dict[str, Programme], make_kiosk: Callable[..., Kiosk]
) -> None:
    fill_centre(central_url, programmes)
    first = make_kiosk(central_url, number=3, kiosk_id="GENK-A", tickets=True)
    second = make_kiosk(central_url, number=3, kiosk_id="GENK-B", tickets=True)
    for kiosk in (first, second):
        kiosk.sync.run_round()
    kept = _check_in_one(first, 0)
    clash = _check_in_one(second, 1)
    assert first.sync.run_round().error == ""
    report = second.sync.run_round()
    assert report.error == "" and report.push is not None
    assert list(report.push.refused.values()) == [TICKET_NUMBER_TAKEN]
    assert _centre_ticket(central_url, kept) is not None
    assert _centre_ticket(central_url, clash) is None
    with second.sessions() as db:
        (aside,) = db.scalars(select(OutboxEvent).where(OutboxEvent.set_aside.is_(True)))
        assert aside.kind == "parking_ticket" and aside.last_error == TICKET_NUMBER_TAKEN
    # The second kiosk's pull gives way to the centre's ticket instead of failing every round.
    assert second.sync.run_round().error == ""
    with second.sessions() as db:
        assert db.get(ParkingTicket, kept) is not None
        assert db.get(ParkingTicket, clash) is None


def test_a_kiosk_id_other_than_its_roles_stops_the_push_loudly_and_loses_nothing(
    pg_url: str,
    kiosk_centre: tuple[str, Engine],
    programmes: dict[str, Programme],
    make_kiosk: Callable[..., Kiosk],
) -> None:
    role, _admin = kiosk_centre
    role_url = pg_url.replace("postgres@", f"{role}@")
    wrong = make_kiosk(role_url, kiosk_id="GENK-01")
    with wrong.sessions() as db, db.begin():
        alert_id = alerts.raise_alert(
            db, now=wrong.clock.now(), kind="printer_fault", site_id="GENK", message="m"
        ).id
    report = wrong.sync.run_round()
    assert "kiosk GENK-1" in report.error and "kiosk_id" in report.error
    assert wrong.sync.failures() == 1
    assert wrong.pending() == 1  # waiting for the fix, not set aside
    fixed = SyncService(
        wrong.sessions, role_url, site_id="GENK", kiosk_id="GENK-1", clock=wrong.clock
    )
    try:
        report = fixed.run_round()
    finally:
        fixed.close()
    assert report.error == "" and report.push is not None and report.push.sent == 1
    assert [a.id for a in _centre_alerts(pg_url)] == [alert_id]


def test_set_aside_events_go_again_after_retry(
    central_url: str, programmes: dict[str, Programme], make_kiosk: Callable[..., Kiosk]
) -> None:
    fill_centre(central_url, programmes)
    kiosk = make_kiosk(central_url)
    kiosk.sync.run_round()
    patient_id, _booking, starts = kiosk.bookings_on(TODAY)[0]
    kiosk.checkin.check_in_patient(patient_id, actor="t", note="t", at=starts)
    with kiosk.sessions() as db, db.begin():
        db.execute(
            OutboxEvent.__table__.update().values(set_aside=True, last_error="refused earlier")
        )
    assert kiosk.pending() == 0
    with kiosk.sessions() as db, db.begin():
        assert requeue_set_aside(db) > 0
    assert kiosk.pending() > 0
    report = kiosk.sync.run_round()
    assert report.error == "" and report.push is not None and not report.push.refused
    assert kiosk.pending() == 0


def test_add_kiosk_refuses_what_would_clash_or_hand_over_a_role(
    kiosk_centre: tuple[str, Engine],
) -> None:
    role, admin = kiosk_centre
    refusals = {
        "postgres": dict(site_id="GENK", kiosk_id="GENK-7", kiosk_number=7),
        "kiosk_other_1": dict(site_id="GENK", kiosk_id="GENK-1", kiosk_number=7),
        "kiosk_other_2": dict(site_id="GENK", kiosk_id="GENK-7", kiosk_number=1),
        "kiosk_other_3": dict(site_id="GENK", kiosk_id="G" * 41, kiosk_number=7),
        "kiosk_other_4": dict(site_id="NOWHERE", kiosk_id="GENK-7", kiosk_number=7),
        "kiosk_other_5": dict(site_id="GENK", kiosk_id="GENK-7", kiosk_number=100),
    }
    for name, args in refusals.items():
        with pytest.raises(central.RoleRefused):
            central.add_kiosk(admin, name, **args)  # type: ignore[arg-type]
    with admin.connect() as conn:
        assert conn.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = 'postgres'"))
        made = conn.scalars(text("SELECT rolname FROM pg_roles WHERE rolname LIKE 'kiosk_other%'"))
        assert list(made) == []
        mapped = conn.execute(text("SELECT role_name, kiosk_number FROM sync_kiosk_roles")).all()
        assert [tuple(r) for r in mapped] == [(role, 1)]
    # Re-pointing its own kiosk role is allowed (a kiosk moved or renumbered).
    central.add_kiosk(admin, role, site_id="GENK", kiosk_id="GENK-1", kiosk_number=2)
