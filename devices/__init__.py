"""Hardware behind interfaces: e-ID card readers and ticket printers. Knows nothing of patients."""
