"""Receipt printers for parking tickets: interface, ESC/POS, file printer, simulated faults."""
