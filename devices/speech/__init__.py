"""Speech output for the kiosk screen: the interface, espeak-ng, and a recording fake."""
