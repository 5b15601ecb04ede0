"""The free-exit parking ticket: its signed code, issuing at check-in, printing, verification."""
