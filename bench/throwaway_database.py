"""A PostgreSQL database of its own for a sync benchmark, made and dropped on the local server."""

from __future__ import annotations

import uuid

import psycopg

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def create(prefix: str) -> tuple[str, str]:
    """A new empty database: its name and its SQLAlchemy URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop(name: str) -> None:
    """Drop the database, whoever is still connected."""
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def libpq(url: str) -> str:
    """The SQLAlchemy URL as psycopg takes it."""
    return url.replace("+psycopg", "")
