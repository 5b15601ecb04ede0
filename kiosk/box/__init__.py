"""The kiosk box: installing it, checking its health, backing it up."""
