"""Command line of the kiosk: one sub-command module per area."""
