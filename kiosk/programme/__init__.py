"""Programmes as data: one TOML file per programme, loaded into plain frozen values. Imports
nothing of the kiosk but itself."""

from kiosk.programme.loader import ProgrammeError, load_programme, load_programmes
from kiosk.programme.model import Milestone, Phase, Programme, RequiredSession, SessionKind

__all__ = [
    "Milestone",
    "Phase",
    "Programme",
    "ProgrammeError",
    "RequiredSession",
    "SessionKind",
    "load_programme",
    "load_programmes",
]
