"""The persistent index of a knowledge base: what other notes' checks need of each note.

A review reads every note of the base, but of the notes it does not review it needs only
their type, title, description, first paragraph, headings, block ids and links. The
index keeps exactly that per note, keyed by content (the git blob id in `diff` and
`pr`; size, modification time and a SHA-256 of the bytes on a plain folder), so a run
parses only the notes that changed since the last one, and untouched notes live in
memory as small records, never as parsed notes with bodies.

It is a SQLite file in the user's cache folder (or `--cache-dir`): transactions make
every write atomic, and its locking lets two runs share it. A file that SQLite cannot
read, or one written by another format or claim-review version, is deleted and built
again, never trusted. The index is a cache: any failure to read or write it only means
parsing again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewer import __version__
from reviewer.claim import Claim, comparable, deslugify, normalize_name

FORMAT = 4
MAX_GROUPS = 100  # names one prefilter looks for; past it, nothing is filtered out
CHUNK = 900  # keys per query: SQLite's variable limit is 999 on older builds
_BLOCK = re.compile(r"(?m)\s\^([A-Za-z0-9-]{1,64})[ \t]*$")


@dataclass
class NoteInfo:
    """One note as other notes' checks see it. `extra` (first paragraph, headings, block
    ids, links) is loaded from the index only when a check asks for it."""

    path: str
    type: str | None
    h1: str | None  # the H1 title, None when the title comes from the file name
    description: str
    unreadable: bool = False
    domain: str | None = None
    _keys: tuple[str, str] | None = field(default=None, repr=False)  # title, description
    _extra: dict[str, Any] | None = field(default=None, repr=False)
    _load: Any = field(default=None, repr=False)  # () -> extra, from the index

    @property
    def stem(self) -> str:
        name = self.path.rsplit("/", 1)[-1]
        return name[:-3] if name.lower().endswith(".md") else name

    @property
    def title(self) -> str:
        return self.h1 if self.h1 is not None else deslugify(self.stem)

    @property
    def extra(self) -> dict[str, Any]:
        if self._extra is None:
            self._extra = self._load() if self._load is not None else {}
            self._load = None
        return self._extra

    @property
    def first_paragraph(self) -> str:
        return self.extra.get("p", "")

    @property
    def headings(self) -> set[str]:
        return set(self.extra.get("hd", []))

    @property
    def blocks(self) -> set[str]:
        return set(self.extra.get("b", []))

    @property
    def links(self) -> list[tuple[str, int, str]]:
        """(target, line, raw) of each wiki link of the body."""
        return [tuple(link) for link in self.extra.get("l", [])]

    @property
    def depends_on(self) -> list[str]:
        return list(self.extra.get("dep", []))

    @property
    def title_key(self) -> str:
        """comparable(title): from the index when the title is the H1 (a title from the
        file name depends on the path, which records do not hold)."""
        if self._keys is not None and self.h1 is not None:
            return self._keys[0]
        return comparable(self.title)

    @property
    def description_key(self) -> str:
        return self._keys[1] if self._keys is not None else comparable(self.description)


def info_of(claim: Claim, extra: bool = True) -> NoteInfo:
    """The record of a parsed note; without `extra`, the costlier part (links, headings,
    first paragraph) is left for when a check asks for it."""
    kind = claim.fm.get("type")
    return NoteInfo(claim.path, kind if isinstance(kind, str) else None,
                    claim.title if claim.title_line is not None else None,
                    claim.field_text("description"), claim.unreadable,
                    claim.field_text("domain") or None,
                    _extra=extra_of(claim) if extra else None)


def extra_of(claim: Claim) -> dict[str, Any]:
    return {"p": claim.first_paragraph(),
            "hd": sorted({normalize_name(h) for h in claim.sections()}),
            "b": sorted(set(_BLOCK.findall(claim.text))),
            "l": [[link.target, link.line, link.raw] for link in claim.links],
            "dep": [str(v) for v in claim.fm.get("depends_on") or []
                    if isinstance(v, str)][:200] if isinstance(claim.fm.get("depends_on"),
                                                               list) else []}


def content_key(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Index:
    """The SQLite store. Every method fails soft: None or nothing on a database error."""

    def __init__(self, path: Path, max_bytes: int):
        self.path = path
        self.identity = json.dumps([FORMAT, __version__, max_bytes])
        self._db: sqlite3.Connection | None = None
        self.rebuilt = False
        self._open()

    # -- opening: detect and rebuild what cannot be trusted ------------------
    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = self._connect()
            if self._identity() != self.identity:
                self._reset()
        except sqlite3.DatabaseError:
            self._discard()
        except OSError:
            self._db = None

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT)")
        db.execute("CREATE TABLE IF NOT EXISTS notes (key TEXT PRIMARY KEY, type TEXT, "
                   "h1 TEXT, description TEXT, unreadable INTEGER, domain TEXT, tkey TEXT, "
                   "dkey TEXT, extra TEXT)")
        db.execute("CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, stat TEXT, "
                   "key TEXT)")
        return db

    def _identity(self) -> str | None:
        row = self._db.execute("SELECT v FROM meta WHERE k = 'identity'").fetchone()
        return row[0] if row else None

    def _reset(self) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        db.execute("DELETE FROM notes")
        db.execute("DELETE FROM files")
        db.execute("INSERT OR REPLACE INTO meta VALUES ('identity', ?)", (self.identity,))
        db.execute("COMMIT")
        self.rebuilt = True

    def _discard(self) -> None:
        """A corrupt file: delete it and start anew."""
        if self._db is not None:
            self._db.close()
        for suffix in ("", "-wal", "-shm"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)
        try:
            self._db = self._connect()
            self._reset()
        except (sqlite3.DatabaseError, OSError):
            self._db = None

    # -- reading and writing --------------------------------------------------
    def notes(self, keys: list[str]) -> dict[str, tuple]:
        """key -> (type, h1, description, unreadable, domain, title key, description key)
        for the keys it holds."""
        return self._select("SELECT key, type, h1, description, unreadable, domain, tkey, "
                            "dkey FROM notes WHERE key IN ({})", keys)

    def _select(self, sql: str, values: list[str], params: tuple = ()) -> dict[str, tuple]:
        """First column -> the others, for `values` in chunks SQLite accepts; `params`
        bind the placeholders before the `{}` list."""
        found: dict[str, tuple] = {}
        if self._db is None:
            return found
        step = max(1, CHUNK - len(params))
        try:
            for start in range(0, len(values), step):
                chunk = values[start:start + step]
                for row in self._db.execute(sql.format(",".join("?" * len(chunk))),
                                            [*params, *chunk]):
                    found[row[0]] = tuple(row[1:])
        except sqlite3.DatabaseError:
            self._discard()
            return {}
        return found

    def extra(self, key: str) -> dict[str, Any] | None:
        """The stored extra part of a record, or None when it was never computed."""
        if self._db is None:
            return None
        try:
            row = self._db.execute("SELECT extra FROM notes WHERE key = ?", (key,)).fetchone()
            return json.loads(row[0]) if row and row[0] is not None else None
        except (sqlite3.DatabaseError, ValueError):
            return None

    def put_extra(self, key: str, extra: dict[str, Any]) -> None:
        self.put_extras([(key, extra)])

    def put_extras(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        self._write("UPDATE notes SET extra = ? WHERE key = ?",
                    [(json.dumps(extra, ensure_ascii=False), key) for key, extra in items])

    def extras(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """key -> extra part, for the records that have it stored."""
        found = {}
        for key, (text,) in self._select("SELECT key, extra FROM notes WHERE key IN ({}) "
                                         "AND extra IS NOT NULL", keys).items():
            try:
                found[key] = json.loads(text)
            except ValueError:
                continue
        return found

    def mentioning(self, keys: list[str], groups: list[list[str]]) -> dict[str, bool]:
        """key -> whether its stored extra part holds every word of one of `groups`
        (lower-case ASCII), for the keys whose extra part is stored: a prefilter before
        loading extras."""
        # an empty group matches everything, and past MAX_GROUPS the query grows too
        # long: no answer, and the caller keeps every note
        if not groups or len(groups) > MAX_GROUPS or not all(groups):
            return {}
        # LIKE folds ASCII case, as `probes` assumes, without copying the text as lower()
        test = " OR ".join("(" + " AND ".join(["extra LIKE ?"] * len(g)) + ")" for g in groups)
        words = tuple(f"%{w}%" for g in groups for w in g)  # [a-z0-9] runs: nothing to escape
        rows = self._select(f"SELECT key, {test} FROM notes WHERE key IN ({{}}) "
                            "AND extra IS NOT NULL", keys, words)
        return {key: bool(hit) for key, (hit,) in rows.items()}

    def put(self, items: list[tuple[str, NoteInfo]]) -> None:
        """Store parsed notes in one transaction; a locked or failing database is skipped."""
        if self._db is None or not items:
            return
        rows = [(key, info.type, info.h1, info.description, int(info.unreadable), info.domain,
                 comparable(info.h1 or ""), comparable(info.description),
                 json.dumps(info._extra, ensure_ascii=False) if info._extra is not None
                 else None) for key, info in items]
        self._write("INSERT OR REPLACE INTO notes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def stats(self, paths: list[str]) -> dict[str, tuple[str, str]]:
        """Absolute path -> (stat, key) recorded for files of a plain folder."""
        return self._select("SELECT path, stat, key FROM files WHERE path IN ({})", paths)

    def put_stats(self, rows: list[tuple[str, str, str]]) -> None:
        self._write("INSERT OR REPLACE INTO files VALUES (?, ?, ?)", rows)

    def _write(self, sql: str, rows: list[tuple]) -> None:
        if self._db is None or not rows:
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(sql, rows)
            self._db.execute("COMMIT")
        except sqlite3.OperationalError:  # locked past the timeout, or read-only: skip
            with contextlib.suppress(sqlite3.DatabaseError):
                self._db.execute("ROLLBACK")
        except sqlite3.DatabaseError:
            self._discard()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def default_dir() -> Path:
    home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(home) / "claim-review"


def open_index(cache_dir: str | Path | None, max_bytes: int) -> Index | None:
    """The index under `cache_dir` (None: CLAIM_REVIEW_INDEX_DIR, else the user cache
    folder; "" turns it off)."""
    chosen = os.environ.get("CLAIM_REVIEW_INDEX_DIR") if cache_dir is None else cache_dir
    if chosen == "":
        return None
    folder = Path(chosen).expanduser() if chosen else default_dir()
    index = Index(folder / f"index-v{FORMAT}.sqlite", max_bytes)
    return index if index._db is not None else None
