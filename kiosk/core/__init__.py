"""The application's plumbing: configuration, clock, translations, logs, the reception PIN's
hash, the systemd watchdog. Imports nothing of the kiosk but itself (and the standard library)."""
