"""The knowledge-base index: every note listed once, links resolved the way Obsidian does."""

from __future__ import annotations

import posixpath
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz, process

from reviewer.claim import Claim, comparable
from reviewer.globs import matches
from reviewer.index import Index, NoteInfo, content_key, extra_of, info_of
from reviewer.parse import parse_claim

if TYPE_CHECKING:
    from reviewer.rubric import Rubric

OK, MISSING, AMBIGUOUS, OUTSIDE = "ok", "missing", "ambiguous", "outside"


@dataclass
class Resolution:
    status: str
    paths: list[str] = field(default_factory=list)


@dataclass
class TitleEntry:
    """One existing claim as the duplicate search sees it."""

    path: str
    title: str
    description: str
    title_key: str = ""  # comparable(title), kept in the index so no run recomputes it
    description_key: str = ""


_ALNUM = re.compile(r"[a-z0-9]+")
PROBE_WORDS = 4  # words looked for per name: enough to be selective, few to test


def probes(names) -> list[list[str]] | None:
    """For each name, words its text must all contain (its longest lower-case ASCII runs,
    at most PROBE_WORDS), or None when a name has none: then nothing can be filtered
    out. SQLite's lower() folds ASCII only, so only ASCII runs are safe to look for."""
    found = []
    for name in names:
        runs = sorted(set(_ALNUM.findall(name.lower())), key=lambda r: (-len(r), r))
        if not runs:
            return None
        found.append(runs[:PROBE_WORDS])
    return found


class KnowledgeBase:
    """Lists a file source once. Notes under review are parsed whole (`claim`), at most
    once each; every other note is known by a small record (`info`), from the persistent
    index when it holds the note's content, else parsed once and not kept."""

    def __init__(self, source: Any, rubric: Rubric, index: Index | None = None):
        self.source = source
        self.rubric = rubric
        self.index = index
        self._infos: dict[str, NoteInfo] = {}
        self._claim_paths: tuple[int, list[str]] | None = None  # (notes then, claim paths)
        self._key_of: dict[str, str] = {}  # path -> content key of its record
        all_paths = [p for p in source.paths() if not matches(p, rubric.files_exclude)]
        self.notes = [p for p in all_paths
                      if p.lower().endswith(".md") and matches(p, rubric.files_include)]
        self._by_name: dict[str, list[str]] = defaultdict(list)
        self._by_path: dict[str, str] = {}
        for path in self.notes:
            self._index(path)
        self._files: dict[str, list[str]] = defaultdict(list)  # attachments: [[diagram.png]]
        for path in all_paths:
            self._files[path.lower().rsplit("/", 1)[-1]].append(path)
        self._parsed: dict[str, Claim] = {}
        self._names: tuple[list[str], list[str]] | None = None
        self._suggested: dict[tuple, list[str]] = {}

    def _index(self, path: str) -> None:
        key = path[:-3].lower()
        self._by_path[key] = path
        self._by_name[key.rsplit("/", 1)[-1].strip()].append(path)
        self._names = None

    def add(self, path: str, claim: Claim | None = None) -> None:
        """Make a note of the change resolvable, even when it lies outside the tree."""
        if path[:-3].lower() not in self._by_path:
            self.notes.append(path)
            self._index(path)
        if claim is not None:
            self._parsed[path] = claim

    def __contains__(self, path: str) -> bool:
        return path in self._parsed or path[:-3].lower() in self._by_path

    # -- parsing -------------------------------------------------------------
    def claim(self, path: str) -> Claim:
        if path not in self._parsed:
            self._parsed[path] = parse_claim(path, self.source.read(path),
                                             self.rubric.max_file_bytes)
        return self._parsed[path]

    def prefetch(self, paths: list[str]) -> None:
        if hasattr(self.source, "prefetch"):
            self.source.prefetch([p for p in paths if p not in self._parsed])

    def is_claim(self, path: str, claim: Claim | None = None) -> bool:
        """The rubric's call: under a claim path, or any file that says `type: claim`."""
        if matches(path, self.rubric.claims_exclude):
            return False
        if self.rubric.claims_paths and matches(path, self.rubric.claims_paths):
            return True
        kind = claim.fm.get("type") if claim is not None else self.info(path).type
        return kind == self.rubric.claim_type

    def kind(self, path: str, claim: Claim | None = None) -> str | None:
        """What a note is reviewed as: "claim", a declared document type, or None."""
        if self.is_claim(path, claim):
            return "claim"
        if (claim.unreadable if claim is not None else self.info(path).unreadable):
            return "claim"  # binary or oversized: no type to read, so it must be reported
        kind = claim.fm.get("type") if claim is not None else self.info(path).type
        return kind if self.rubric.document_type(kind) is not None else None

    def typed(self, path: str) -> Claim:
        """A note of the change, parsed whole and marked with its document type."""
        claim = self.claim(path)
        claim.kind = self.kind(path, claim) or "claim"
        return claim

    def claim_paths(self) -> list[str]:
        """Paths the rubric's globs settle need no reading; the others need their type."""
        if self._claim_paths is None or self._claim_paths[0] != len(self.notes):
            rubric = self.rubric
            self.load([p for p in self.notes if not matches(p, rubric.claims_exclude)
                       and not (rubric.claims_paths and matches(p, rubric.claims_paths))])
            self._claim_paths = (len(self.notes), [p for p in self.notes if self.is_claim(p)])
        return list(self._claim_paths[1])

    # -- records of notes that are not under review ---------------------------
    def info(self, path: str) -> NoteInfo:
        if path not in self._infos:
            self.load([path])
        return self._infos[path]

    def load(self, paths: list[str], extras: bool = False) -> None:
        """Records for many notes at once: parsed notes first, then the index, then
        parsing what is left (and storing it; with `extras`, links and headings too, when
        the caller will ask for them anyway)."""
        todo = [p for p in dict.fromkeys(paths) if p not in self._infos]
        for path in [p for p in todo if p in self._parsed]:
            self._infos[path] = info_of(self._parsed[path])
        todo = [p for p in todo if p not in self._infos]
        keys = self._keys(todo)
        found = self.index.notes(list(set(keys.values()))) if self.index else {}
        missing = []
        for path in todo:
            row = found.get(keys.get(path, ""))
            if row is None:
                missing.append(path)
            else:
                self._infos[path] = self._record(path, keys[path], row)
        self._parse(missing, extras=extras)

    def _record(self, path: str, key: str, row: tuple) -> NoteInfo:
        self._key_of[path] = key
        return NoteInfo(path, row[0], row[1], row[2] or "", bool(row[3]), row[4],
                        _keys=(row[5], row[6]) if row[5] is not None else None,
                        _load=lambda: self._extra(path, key))

    def load_extras(self, paths: list[str], batch: int = 2000) -> None:
        """The links, headings and `depends_on` of many notes at once (a search across the
        whole base): from the index in one query, else read in batches and parsed."""
        self.load(paths, extras=True)
        todo = [p for p in paths if self._infos[p]._extra is None]
        if not todo:
            return
        keys = {p: self._key_of[p] for p in todo if p in self._key_of}
        stored = self.index.extras(list(set(keys.values()))) if self.index else {}
        rest = []
        for path in todo:
            if keys.get(path) in stored:
                self._infos[path]._extra = stored[keys[path]]
            else:
                rest.append(path)
        for first in range(0, len(rest), batch):
            new = []
            for path, data in self.source.stream(rest[first:first + batch]):
                extra = extra_of(parse_claim(path, data, self.rubric.max_file_bytes))
                self._infos[path]._extra = extra
                if path in self._key_of:
                    new.append((self._key_of[path], extra))
            if self.index is not None:
                self.index.put_extras(new)

    def mentioning(self, groups: list[list[str]] | None) -> list[str]:
        """The notes whose links or `depends_on` may hold all the words of one of `groups`
        (lower-case ASCII runs, see `probes`): every note whose stored record does not
        say otherwise. A search for who links to a few names then loads the links of
        those notes only, not of the whole base."""
        if not groups or self.index is None:
            return list(self.notes)
        self.load(self.notes, extras=True)  # what is not indexed yet is parsed once, fully
        keys = {p: self._key_of[p] for p in self.notes
                if p in self._key_of and self._infos[p]._extra is None}
        flags = self.index.mentioning(list(set(keys.values())), groups)
        return [p for p in self.notes if flags.get(keys.get(p, ""), True)]

    def _extra(self, path: str, key: str) -> dict[str, Any]:
        """Links, headings and first paragraph of a note outside the review, when a check
        first asks: from the index, else parsed from the source once (and stored)."""
        stored = self.index.extra(key) if self.index is not None else None
        if stored is not None:
            return stored
        extra = extra_of(parse_claim(path, self.source.read(path), self.rubric.max_file_bytes))
        if self.index is not None:
            self.index.put_extra(key, extra)
        return extra

    def _keys(self, paths: list[str]) -> dict[str, str]:
        """Content keys known without reading: git blob ids, or on a folder the key the
        index recorded for the file's unchanged size and modification time."""
        keys = {p: k for p in paths if (k := self.source.key(p)) is not None}
        if self.index is None or not hasattr(self.source, "stat") or len(keys) == len(paths):
            return keys
        rest = [p for p in paths if p not in keys]
        recorded = self.index.stats([self.source.full(p) for p in rest])
        for path in rest:
            stat, key = recorded.get(self.source.full(path), (None, None))
            if stat is not None and stat == self.source.stat(path):
                keys[path] = key
        return keys

    def _parse(self, paths: list[str], batch: int = 2000, extras: bool = False) -> None:
        """Read what the index could not key without reading; bytes it has seen before
        (a renamed or touched file) are looked up by their hash, the rest parsed."""
        for first in range(0, len(paths), batch):
            read = list(self.source.stream(paths[first:first + batch]))
            keys = {path: self.source.key(path) or content_key(data) for path, data in read}
            found = self.index.notes(list(set(keys.values()))) if self.index else {}
            new, stats = [], []
            for path, data in read:
                key = keys[path]
                if key in found:
                    self._infos[path] = self._record(path, key, found[key])
                else:
                    info = info_of(parse_claim(path, data, self.rubric.max_file_bytes),
                                   extra=extras)
                    info._load = lambda path=path, key=key: self._extra(path, key)
                    self._key_of[path] = key
                    self._infos[path] = info
                    new.append((key, info))
                stat = self.source.stat(path) if hasattr(self.source, "stat") else None
                if stat is not None and not _racy(stat):
                    stats.append((self.source.full(path), stat, key))
            if self.index is not None:
                self.index.put(new)
                self.index.put_stats(stats)

    # -- links ---------------------------------------------------------------
    def resolve(self, target: str, source: str | None = None) -> Resolution:
        """Resolve a link target from the note `source`. As in Obsidian, `./x` and `../x`
        are relative to the linking note's folder (and never leave the root), and a name
        shared by several notes resolves to the one in the linking note's folder."""
        target = target.strip().replace("\\", "/")
        if source is not None and target.startswith(("./", "../")):
            joined = posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
            if joined == ".." or joined.startswith("../"):
                return Resolution(OUTSIDE)
            target = "/" + joined
        found = self._resolve(target)
        if found.status == AMBIGUOUS and source is not None:
            folder = posixpath.dirname(source)
            near = [p for p in found.paths if posixpath.dirname(p) == folder]
            if len(near) == 1:
                return Resolution(OK, near)
        return found

    def _resolve(self, target: str) -> Resolution:
        """`target` is already stripped, with forward slashes (see `resolve`)."""
        rooted = target.startswith("/")  # `[[/a/b]]` is relative to the root, never a suffix
        normal = posixpath.normpath(target.lstrip("/")) if target else ""
        if normal == ".." or normal.startswith("../"):
            return Resolution(OUTSIDE)
        key = normal.lower()
        if not key or key == ".":
            return Resolution(MISSING)
        if key.endswith(".md"):
            key = key[:-3]
        elif "." in key.rsplit("/", 1)[-1]:
            found = self._attachment(key, rooted)
            if found.status != MISSING:
                return found
        if rooted:
            return self._found([self._by_path[key]] if key in self._by_path else [])
        if "/" in key:
            return self._resolve_path(key)
        return self._found(self._by_name.get(key.strip(), []))

    def _attachment(self, key: str, rooted: bool) -> Resolution:
        """Any file, by its name alone or a path suffix, the way notes resolve."""
        name = key.rsplit("/", 1)[-1]
        return self._found([p for p in self._files.get(name, []) if p.lower() == key
                            or not rooted and p.lower().endswith("/" + key)])

    def _resolve_path(self, key: str) -> Resolution:
        if key in self._by_path:
            return Resolution(OK, [self._by_path[key]])
        name = key.rsplit("/", 1)[-1]
        return self._found([p for p in self._by_name.get(name, [])
                            if p[:-3].lower().endswith("/" + key)])

    @staticmethod
    def _found(paths: list[str]) -> Resolution:
        if not paths:
            return Resolution(MISSING)
        return Resolution(OK if len(paths) == 1 else AMBIGUOUS, sorted(paths))

    def suggest(self, target: str, limit: int = 3, cutoff: float = 60) -> list[str]:
        """The note names closest to a broken link target."""
        key = (target, limit, cutoff)
        if key not in self._suggested:
            if self._names is None:
                names = sorted({p.rsplit("/", 1)[-1][:-3] for p in self.notes})
                self._names = (names, [comparable(n) for n in names])
            names, normalized = self._names
            query = comparable(target.rsplit("/", 1)[-1])
            found = process.extract(query, normalized, scorer=fuzz.ratio,
                                    limit=limit, score_cutoff=cutoff)
            best = found[0][1] if found else 0
            # keep only near-ties of the best match: a far second guess misleads
            self._suggested[key] = [names[i] for _n, score, i in found if score >= best - 10]
        return self._suggested[key]

    def links_to(self, paths: set[str]) -> list[tuple[str, tuple[str, int, str]]]:
        """Every (note, (target, line, raw)) elsewhere in the base whose link may resolve
        to one of `paths` (the caller resolves it)."""
        names = {p[:-3].lower().rsplit("/", 1)[-1] for p in paths}
        notes = self.mentioning(probes(names))
        self.load_extras(notes)
        hits = []
        for note in notes:
            for link in self.info(note).links:
                last = link[0].lower().removesuffix(".md").rsplit("/", 1)[-1].strip()
                if last in names:
                    hits.append((note, link))
        return hits

    # -- duplicate search ----------------------------------------------------
    def title_entries(self, exclude: set[str]) -> list[TitleEntry]:
        wanted = [p for p in self.claim_paths() if p not in exclude]
        self.load(wanted)
        return [TitleEntry(p, (info := self.info(p)).title, info.description, info.title_key,
                           info.description_key) for p in wanted]


def _racy(stat: str) -> bool:
    """Modified within the last two seconds: a later change in the same tick of the clock
    could keep size and time, so such a file is hashed again next time (as git does)."""
    return time.time_ns() - int(stat.split(":")[1]) < 2_000_000_000


@dataclass
class ReviewContext:
    """What every check may read: the trees, the change, the rubric, today's date."""

    kb: KnowledgeBase  # links resolve against this tree (HEAD, or the folder)
    base: KnowledgeBase  # duplicates are searched in this tree
    claims: list[Claim]  # the claims under review
    rubric: Rubric
    today: date
    removed: list[str] = field(default_factory=list)  # notes the change deletes or renames away
    # a shard of a whole-base audit: the claims other shards review. Duplicates are searched
    # among them as if they were under review here, so the shards add up to the whole run
    peers: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)  # per-check precomputed data
    notes: list[Claim] = field(default_factory=list)  # notes of other declared types reviewed

    @property
    def change_paths(self) -> set[str]:
        return {c.path for c in [*self.claims, *self.notes]}
