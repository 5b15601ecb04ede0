"""The full-screen Textual app: the patient's kiosk screen, reception and the technician.
Built by ``kiosk.ui.factory.make_app``. May import the domain's read models and rules,
``kiosk.core``, ``kiosk.programme`` and ``devices``; never SQLAlchemy nor the command line. Only
``kiosk.ui.facade`` imports ``sync``, ``kiosk.db`` and the database context: the screens reach
the data through it."""
