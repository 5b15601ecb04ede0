"""The full-screen Textual app: the patient's kiosk screen, reception and the technician.
May import the domain (through ``kiosk.ui.facade`` and ``kiosk.ui.services``), ``kiosk.core`` and
``kiosk.programme``; never SQLAlchemy nor the command line."""
