"""The databases: models shared by the kiosk's SQLite and the centre, engines, migrations."""
