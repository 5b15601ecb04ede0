"""The databases: models shared by the kiosk's SQLite and the centre, engines, migrations.
Imports nothing of the kiosk but itself."""
