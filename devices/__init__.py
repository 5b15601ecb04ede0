"""Hardware behind interfaces: e-ID card readers and ticket printers. Knows nothing of patients
and imports nothing of ``kiosk`` or ``sync``."""
