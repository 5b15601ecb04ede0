"""Command line of the kiosk: one sub-command module per area. The top layer: may import every
other package of the kiosk, ``sync`` and ``devices``."""
