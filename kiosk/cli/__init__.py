"""Command line of the kiosk: one sub-command module per area. The top layer: may import every
other package of the kiosk, ``sync`` and ``devices``, but never SQLAlchemy: a command calls the
domain's read models and actions, which open their own sessions."""
