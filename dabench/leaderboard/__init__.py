"""Leaderboards: published comparison records under ``leaderboards/`` and a static site.

A leaderboard folder holds ``leaderboard.yaml`` (its definition) and ``records/*.json`` (one
comparison per file); :func:`add_records` files comparisons in, :func:`build_site` writes the site.
"""

from __future__ import annotations

from dabench.leaderboard.definition import DEFINITION_FILE, LeaderboardDefinition, load_definition
from dabench.leaderboard.records import add_records, load_records, record_id
from dabench.leaderboard.site import build_site

__all__ = [
    "DEFINITION_FILE",
    "LeaderboardDefinition",
    "add_records",
    "build_site",
    "load_definition",
    "load_records",
    "record_id",
]
