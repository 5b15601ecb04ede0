"""The kiosk's own themes: a high-contrast one (white and yellow on black) for ``[ui] theme``."""

from __future__ import annotations

from textual.theme import Theme

HIGH_CONTRAST = Theme(
    name="kiosk-high-contrast",
    primary="#FFFF00",
    secondary="#00FFFF",
    accent="#FFFF00",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#1A1A1A",
    boost="#262626",
    success="#00FF66",
    warning="#FFD000",
    error="#FF5050",
    dark=True,
    variables={
        "text-muted": "#FFFFFF",
        "text-success": "#00FF66",
        "text-warning": "#FFD000",
        "success-muted": "#003318",
        "warning-muted": "#4D3B00",
        "primary-muted": "#333300",
        "block-cursor-foreground": "#000000",
        "block-cursor-background": "#FFFF00",
    },
)
"""Pure white text on black, yellow for what to look at; no muted grey."""

THEMES = {"high-contrast": HIGH_CONTRAST}
"""``[ui] theme`` values besides ``default``."""
