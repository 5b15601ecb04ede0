"""The full-screen Textual app: the patient's kiosk screen, reception and the technician."""
