"""Network payloads shaped exactly like each API's documentation (see README.md beside this file)."""

import json
from pathlib import Path

PAYLOADS = Path(__file__).resolve().parent


def payload(network: str, name: str) -> dict:
    """The parsed JSON of payloads/<network>/<name>.json."""
    return json.loads((PAYLOADS / network / f"{name}.json").read_text(encoding="utf-8"))


def payload_text(network: str, name: str) -> str:
    return (PAYLOADS / network / f"{name}.json").read_text(encoding="utf-8")
