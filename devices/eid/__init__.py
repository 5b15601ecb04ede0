"""Belgian e-ID: reading the card, parsing its files, checking its signatures."""
