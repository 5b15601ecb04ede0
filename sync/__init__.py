"""Exchange with the central database: pull bookings, push the outbox."""
