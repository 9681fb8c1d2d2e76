"""The record store: every per-example result in SQLite.

A record is keyed by (model fingerprint, run key, example id, seed); the run key hashes all
besides the model that determines the output. Records are committed batch by batch, so a re-run
computes only what is missing. WAL mode and a busy timeout let two processes write to one store.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from dabench._version import __version__
from dabench.errors import DabenchError

ENV_STORE = "DABENCH_STORE"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    model_fp   TEXT NOT NULL,
    run_key    TEXT NOT NULL,
    example_id TEXT NOT NULL,
    seed       INTEGER NOT NULL DEFAULT 0,
    payload    TEXT NOT NULL,
    version    TEXT NOT NULL,
    created    REAL NOT NULL,
    PRIMARY KEY (model_fp, run_key, example_id, seed)
);
CREATE TABLE IF NOT EXISTS runs (
    model_fp   TEXT NOT NULL,
    run_key    TEXT NOT NULL,
    seed       INTEGER NOT NULL DEFAULT 0,
    model_name TEXT NOT NULL,
    task       TEXT NOT NULL,
    spec_hash  TEXT NOT NULL,
    config     TEXT NOT NULL,
    n_examples INTEGER NOT NULL,
    version    TEXT NOT NULL,
    created    REAL NOT NULL,
    PRIMARY KEY (model_fp, run_key, seed)
);
"""


#: the columns of each table, as ``_SCHEMA`` creates them
_COLUMNS = {
    "records": ("model_fp", "run_key", "example_id", "seed", "payload", "version", "created"),
    "runs": ("model_fp", "run_key", "seed", "model_name", "task", "spec_hash", "config", "n_examples", "version",
             "created"),
}


def default_store_path() -> Path:
    """``$DABENCH_STORE``, else ``~/.cache/dabench/store.sqlite``."""
    env = os.environ.get(ENV_STORE)
    if env:
        return Path(env).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "dabench" / "store.sqlite"


@dataclass(frozen=True)
class RunInfo:
    """What the store keeps about a run besides its records (``dabench runs list`` shows it)."""

    model_name: str
    task: str
    spec_hash: str
    config: Mapping[str, Any]


#: seconds to keep trying to open a store that another process is creating
OPEN_TIMEOUT = 60.0


class Store:
    """A SQLite file of per-example records."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        deadline = time.monotonic() + OPEN_TIMEOUT
        while True:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._conn = sqlite3.connect(self.path, timeout=60.0)
                self._conn.execute("PRAGMA busy_timeout=60000")
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self._conn.executescript(_SCHEMA)
                self._check_schema()
                return
            except OSError as exc:  # the parent is a file, or a folder we may not write
                blocking = next((p for p in self.path.parents if p.exists() and not p.is_dir()), None)
                why = f"{blocking} is a file, not a folder" if blocking else (exc.strerror or str(exc))
                raise DabenchError(f"store {self.path}: cannot create it ({why}); pass --store PATH to a writable "
                                   "location") from None
            except sqlite3.DatabaseError as exc:
                # another process is switching the same new file to WAL (a lock busy_timeout does not wait for)
                locked = isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)
                if locked and time.monotonic() < deadline:
                    if hasattr(self, "_conn"):
                        self._conn.close()
                    time.sleep(0.05)
                    continue
                raise DabenchError(f"store {self.path}: cannot open ({exc}); pass --store PATH to use another "
                                   "file") from None

    def _check_schema(self) -> None:
        """Refuse a SQLite file that is not a dabench store before anything is read or written."""
        for table, expected in _COLUMNS.items():
            found = tuple(row[1] for row in self._conn.execute(f"PRAGMA table_info({table})"))
            if found != expected:
                self._conn.close()
                raise DabenchError(f"store {self.path}: not a dabench record store (table {table!r} has columns "
                                   f"{', '.join(found) or 'none'}); pass --store PATH to another file")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def register_run(
        self, model_fp: str, run_key: str, *, seed: int, model_name: str, task: str,
        spec_hash: str, config: Mapping[str, Any], n_examples: int,
    ) -> None:
        with self._conn:
            self._conn.execute(
                "INSERT OR IGNORE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?)",
                (model_fp, run_key, seed, model_name, task, spec_hash,
                 json.dumps(dict(config), sort_keys=True), n_examples, __version__, time.time()),
            )

    def get(self, model_fp: str, run_key: str, seed: int = 0) -> dict[str, Any]:
        """Stored payloads of one run, by example id."""
        cur = self._conn.execute(
            "SELECT example_id, payload FROM records WHERE model_fp=? AND run_key=? AND seed=?",
            (model_fp, run_key, seed),
        )
        return {eid: json.loads(p) for eid, p in cur}

    def put_many(self, model_fp: str, run_key: str, items: Iterable[tuple[str, Any]], seed: int = 0) -> None:
        """Store payloads in one transaction (one batch)."""
        now = time.time()
        rows = [(model_fp, run_key, eid, seed, json.dumps(p), __version__, now) for eid, p in items]
        with self._conn:
            self._conn.executemany("INSERT OR REPLACE INTO records VALUES (?,?,?,?,?,?,?)", rows)

    def merge(self, other: str | os.PathLike[str]) -> tuple[int, int]:
        """Add another store's runs and records (``dabench store merge``), idempotently; returns the
        runs and records added. A record both hold with different payloads is an error."""
        other = Path(other)
        if not other.is_file():
            raise DabenchError(f"store {other}: no such file; name the shard stores to merge")
        Store(other).close()  # refuses a file that is not a dabench store
        self._conn.execute("ATTACH DATABASE ? AS src", (str(other),))
        try:
            clash = self._conn.execute(
                """SELECT s.model_fp, s.run_key, s.example_id, s.seed FROM src.records s JOIN records r
                   ON s.model_fp=r.model_fp AND s.run_key=r.run_key AND s.example_id=r.example_id AND s.seed=r.seed
                   WHERE s.payload != r.payload LIMIT 1""").fetchone()
            if clash:
                fp, rk, eid, seed = clash
                raise DabenchError(f"store merge: {other} and {self.path} hold different records for model {fp[:12]}, "
                                   f"run {rk}, example {eid!r}, seed {seed}; these stores were not made by shards of "
                                   "one run (drop that run from one of them with `dabench runs drop`)")
            before = self._conn.total_changes
            with self._conn:
                self._conn.execute("INSERT OR IGNORE INTO runs SELECT * FROM src.runs")
                runs = self._conn.total_changes - before
                self._conn.execute("INSERT OR IGNORE INTO records SELECT * FROM src.records")
            return runs, self._conn.total_changes - before - runs
        finally:
            self._conn.execute("DETACH DATABASE src")

    def runs(self) -> list[dict[str, Any]]:
        """Every registered run with its number of stored records."""
        cur = self._conn.execute(
            """SELECT r.model_fp, r.run_key, r.seed, r.model_name, r.task, r.spec_hash, r.n_examples, r.version,
                      r.created, (SELECT COUNT(*) FROM records c WHERE c.model_fp=r.model_fp
                                  AND c.run_key=r.run_key AND c.seed=r.seed) AS stored
               FROM runs r ORDER BY r.created"""
        )
        return [dict(zip([d[0] for d in cur.description], row)) for row in cur]

    def drop(self, *, model_fp: str | None = None, task: str | None = None) -> int:
        """Delete the runs (and records) of a model fingerprint and/or task; returns runs dropped."""
        if model_fp is None and task is None:
            raise DabenchError("drop needs a model fingerprint or a task")
        given = {"model_fp LIKE ?": None if model_fp is None else model_fp + "%", "task = ?": task}
        where = " AND ".join(cond for cond, arg in given.items() if arg is not None)
        args = [arg for arg in given.values() if arg is not None]
        with self._conn:
            victims = self._conn.execute(f"SELECT model_fp, run_key, seed FROM runs WHERE {where}", args).fetchall()
            for fp, rk, sd in victims:
                self._conn.execute("DELETE FROM records WHERE model_fp=? AND run_key=? AND seed=?", (fp, rk, sd))
                self._conn.execute("DELETE FROM runs WHERE model_fp=? AND run_key=? AND seed=?", (fp, rk, sd))
        return len(victims)
