"""The service runs a round before its timer when something happened: a check-in committed at the
kiosk is pushed, a change at a PostgreSQL centre is pulled; a dropped listener leaves the pull to
the timer until it is back. The timers here are an hour, so only a wake-up explains a round."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import Engine, select, text

from kiosk.db.models import Booking, BookingStatus
from kiosk.programme import Programme
from sync.pull import load_state
from sync.service import Backoff, SyncService
from sync.wake import LISTENER_NAME, libpq_conninfo
from tests.sync.conftest import NOW, Kiosk, assert_each_checkin_once, fill_centre

HOUR = 3600.0
WAIT_S = 30.0


def _quick(*, interval_s: float = HOUR) -> Backoff:
    """Timers of an hour (or ``interval_s`` when no listener runs), quick everything else."""
    return Backoff(
        interval_s=interval_s,
        listening_interval_s=HOUR,
        base_s=0.05,
        cap_s=0.2,
        pull_gap_s=0.0,
        outbox_poll_s=0.02,
    )


def _eventually(condition: Callable[[], bool], what: str) -> None:
    """Wait until ``condition`` holds (a bound against a hang, not a timing assert)."""
    pause = threading.Event()
    for _ in range(int(WAIT_S / 0.02)):
        if condition():
            return
        pause.wait(0.02)
    raise AssertionError(f"never happened: {what}")


@contextmanager
def _running(service: SyncService) -> Iterator[None]:
    stop = threading.Event()
    thread = threading.Thread(target=service.run_forever, args=(stop,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)
        assert not thread.is_alive()


def _pulled(kiosk: Kiosk) -> bool:
    with kiosk.sessions() as db:
        return load_state(db).checkpoint > 0


def _status(kiosk: Kiosk, booking_id: str) -> str | None:
    with kiosk.sessions() as db:
        return db.scalar(select(Booking.status).where(Booking.id == booking_id))


def _cancel_at_centre(admin: Engine, booking_id: str) -> None:
    with admin.begin() as conn:
        conn.execute(
            text("UPDATE bookings SET status = 'CANCELLED' WHERE id = :b"), {"b": booking_id}
        )


def test_a_check_in_is_pushed_without_waiting_for_the_timer(
    central_url: str, programmes: dict[str, Programme], make_kiosk: Callable[..., Kiosk]
) -> None:
    fill_centre(central_url, programmes)
    kiosk = make_kiosk(central_url)
    kiosk.sync.backoff = _quick()
    with _running(kiosk.sync):
        _eventually(lambda: _pulled(kiosk), "the first round")
        assert kiosk.check_in_day(NOW.date(), limit=1) == 1
        _eventually(lambda: kiosk.pending() == 0, "the check-in pushed")
    assert_each_checkin_once(central_url, [kiosk])


def test_a_change_at_the_centre_wakes_the_pull(
    pg_url: str, kiosk_centre: tuple[str, Engine], make_kiosk: Callable[..., Kiosk]
) -> None:
    role, admin = kiosk_centre
    kiosk = make_kiosk(pg_url.replace("postgres@", f"{role}@"))
    kiosk.sync.backoff = _quick()
    with _running(kiosk.sync):
        _eventually(kiosk.sync.listening, "the listener")
        _eventually(lambda: _pulled(kiosk), "the first round")
        booking_id = kiosk.bookings_on(NOW.date())[0][1]
        _cancel_at_centre(admin, booking_id)
        _eventually(
            lambda: _status(kiosk, booking_id) == BookingStatus.CANCELLED, "the change pulled"
        )


def test_a_dropped_listener_leaves_the_pull_to_the_timer_and_comes_back(
    pg_url: str, kiosk_centre: tuple[str, Engine], make_kiosk: Callable[..., Kiosk]
) -> None:
    role, admin = kiosk_centre
    kiosk = make_kiosk(pg_url.replace("postgres@", f"{role}@"))
    # While the listener runs the timer is an hour; without it, a twentieth of a second.
    kiosk.sync.backoff = _quick(interval_s=0.05)
    with _running(kiosk.sync):
        _eventually(kiosk.sync.listening, "the listener")
        _eventually(lambda: _pulled(kiosk), "the first round")
        with admin.begin() as conn:
            # The listener cannot come back; the service's own connections stay open.
            conn.execute(text(f"ALTER ROLE {role} NOLOGIN"))
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE usename = :r AND application_name = :a"
                ),
                {"r": role, "a": LISTENER_NAME},
            )
        _eventually(lambda: not kiosk.sync.listening(), "the listener gone")
        booking_id = kiosk.bookings_on(NOW.date())[0][1]
        _cancel_at_centre(admin, booking_id)
        _eventually(
            lambda: _status(kiosk, booking_id) == BookingStatus.CANCELLED, "the timer's pull"
        )
        with admin.begin() as conn:
            conn.execute(text(f"ALTER ROLE {role} LOGIN"))
        _eventually(kiosk.sync.listening, "the listener back")


def test_a_kiosk_hears_only_that_its_own_site_changed(
    pg_url: str, kiosk_centre: tuple[str, Engine], programmes: dict[str, Programme]
) -> None:
    role, admin = kiosk_centre
    with admin.connect() as conn:
        own = conn.scalar(text("SELECT sync_wake_channel('GENK')"))
        other = conn.scalar(text("SELECT sync_wake_channel('HASSELT')"))
        bookings = {
            site: conn.scalar(
                text(
                    "SELECT b.id FROM bookings b JOIN sessions s ON s.id = b.session_id "
                    "WHERE s.site_id = :s ORDER BY b.id LIMIT 1"
                ),
                {"s": site},
            )
            for site in ("GENK", "HASSELT")
        }
    assert own != other and "GENK" not in str(own)
    kiosk_url = libpq_conninfo(pg_url.replace("postgres@", f"{role}@"))
    with psycopg.connect(kiosk_url, autocommit=True) as conn:
        # Whatever site it names, a kiosk role gets its own site's channel, and no other.
        row = conn.execute("SELECT kiosk_wake_channel('HASSELT')").fetchone()
        assert row is not None and row[0] == own
        for query in ("SELECT sync_wake_channel('HASSELT')", "SELECT * FROM sync_wake_secret"):
            try:
                conn.execute(query)
            except psycopg.errors.InsufficientPrivilege:
                pass
            else:
                raise AssertionError(f"a kiosk role may run {query}")
        conn.execute(f"LISTEN {own}")
        _cancel_at_centre(admin, str(bookings["HASSELT"]))
        _cancel_at_centre(admin, str(bookings["GENK"]))
        # Delivered in commit order: had the other site's change reached this channel, it
        # would come first.
        (heard,) = conn.notifies(timeout=WAIT_S, stop_after=1)
        assert (heard.channel, heard.payload) == (own, "")
