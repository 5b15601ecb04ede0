"""Every module stands in a layer of the import-linter contract, so the contract covers it."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _layer_packages() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (layers,) = [
        c["layers"] for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"
    ]
    return {name.strip() for layer in layers for name in layer.split("|")}


def test_every_module_stands_in_a_layer() -> None:
    packages = _layer_packages()
    outside = []
    for root in ("kiosk", "sync", "devices"):
        for path in sorted((ROOT / root).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            if module in {"kiosk", "kiosk.__init__", "kiosk.__main__"}:
                continue
            if not any(module == p or module.startswith(p + ".") for p in packages):
                outside.append(module)
    assert outside == [], f"modules in no layer of pyproject.toml: {outside}"
