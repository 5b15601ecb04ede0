"""Exchange with the central database: pull bookings, push the outbox. Moves rows only; may
import the domain, ``kiosk.core``, ``kiosk.programme`` and ``kiosk.db``, never a screen nor the
command line."""
