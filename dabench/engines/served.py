"""A model behind a server: what a handle knows of it before anything is asked of the server.

A served model has no files to hash: its name is the served model name, its location the
server's URL, and its fingerprint comes from the server (:mod:`dabench.engines.openai`).
``[ROLE=]VALUE`` option lists (``--base-url``, ``--tokenizer``) give a value to both sides, or
one per side when the two models sit on different servers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from dabench.errors import OptionError

ROLES = ("base", "adapted")


@dataclass(frozen=True)
class ServedModel:
    """The served model ``name`` at ``url``, with a local tokenizer when one is given."""

    name: str
    url: str
    tokenizer: str | None = None

    @property
    def location(self) -> str:
        return self.name

    @property
    def kind(self) -> str:
        return "served"


def per_role(values: Sequence[str], flag: str) -> dict[str, str]:
    """``[ROLE=]VALUE`` items as a value per role: a bare value is both sides', ``base=`` /
    ``adapted=`` one side's (it overrides a bare one)."""
    out: dict[str, str] = {}
    for item in values:
        role, sep, value = item.partition("=")
        if sep and role in ROLES:
            out[role] = value
        elif sep and "://" not in role and "/" not in role:
            raise OptionError(f"{flag} {item}: the part before '=' must be base or adapted, not {role!r}")
        else:
            for r in ROLES:
                out.setdefault(r, item)
    return out
