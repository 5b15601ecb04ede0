"""The kiosk box: installing it, checking its health, backing it up. May import ``sync``, the
domain and what lies below it; never a screen nor the command line."""
