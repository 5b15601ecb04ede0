"""Why a card could not be read: one exception family, each carrying a plain reason.

The reason is written for the person at the kiosk or the technician ("the card was taken out
before it was read"); it never contains anything read from the card, so it is safe in logs.
"""

from __future__ import annotations


class CardReadError(Exception):
    """The card could not be turned into an identity; ``reason`` says why in plain words."""

    reason = "the card could not be read"

    def __init__(self, reason: str | None = None) -> None:
        if reason is not None:
            self.reason = reason
        super().__init__(self.reason)


class TlvError(CardReadError):
    """A card file is not valid simplified TLV."""

    reason = "the card's data is damaged"


class CardDataError(CardReadError):
    """A card file parsed but a field holds something impossible (bad date, bad number)."""

    reason = "the card's data is damaged"


class SignatureError(CardReadError):
    """The identity or address file does not match its signature: a forged or damaged card."""

    reason = "the card's data failed the signature check"


class NotAnEidCard(CardReadError):
    """The card has no Belgian e-ID applet (a bank card, a loyalty card...)."""

    reason = "this card is not a Belgian e-ID"


class CardRemovedError(CardReadError):
    """The card left the reader during the read."""

    reason = "the card was taken out before it was read"


class CardCommunicationError(CardReadError):
    """The card or reader answered something the protocol does not allow."""

    reason = "the card did not answer properly; take it out and insert it again"


class UntrustedCardError(SignatureError):
    """The card's RRN certificate was not issued by a trusted Belgium Root CA: a forged card."""

    reason = "the card's signature does not come from the Belgian National Register"
