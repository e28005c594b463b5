"""What must be re-examined: the notes that rely on a claim a change weakens.

A change that lowers a claim's confidence, retitles it or deletes it leaves the notes
that link to it, or list it in `depends_on` (beliefs, positions, other claims), resting
on something weaker or gone. The review lists them, so that a person or an agent can
re-examine each; they are not findings and do not change the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from reviewer.claim import normalize_name
from reviewer.kb import probes

if TYPE_CHECKING:
    from reviewer.change import Change

MAX_LISTED = 50  # dependents listed per weakened claim


@dataclass
class Impact:
    path: str
    why: str
    dependents: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"path": self.path, "why": self.why, "dependents": self.dependents}


def weakened(change: Change) -> list[tuple[str, str, list[str]]]:
    """(path, why, names it is known by) for each claim the change weakens."""
    ctx = change.ctx
    levels = [str(level) for level in ctx.rubric.schema.get("confidence") or []]
    found = []
    for claim in ctx.claims:
        before = change.base_versions.get(claim.path)
        if before is None:
            continue
        was, now = before.fm.get("confidence"), claim.fm.get("confidence")
        names = [before.stem, before.title]
        if was in levels and now in levels and levels.index(now) > levels.index(was):
            found.append((claim.path, f"its confidence falls from {was} to {now}", names))
        elif normalize_name(before.title) != normalize_name(claim.title):
            found.append((claim.path, f"its title changes from '{before.title}'", names))
    if change.scope is not None:
        for path, _status in change.scope.deleted_claims:
            stem = path.rsplit("/", 1)[-1][:-3]
            title = ctx.base.info(path).title if path in ctx.base else stem
            found.append((path, "this change deletes it", [stem, title]))
    return found


def dependents_of(change: Change) -> list[Impact]:
    """The notes of the head tree that link to, or depend on, each weakened claim.

    One pass over the base, whatever the number of weakened claims."""
    found = weakened(change)
    if not found:
        return []
    by_name: dict[str, set[int]] = {}
    for i, (_path, _why, names) in enumerate(found):
        for name in names:
            if name:
                by_name.setdefault(normalize_name(name), set()).add(i)
    kb = change.ctx.kb
    notes = kb.mentioning(probes(by_name))
    kb.load_extras(notes)
    skip = set(change.ctx.change_paths) | {path for path, _why, _names in found}
    hits: list[list[str]] = [[] for _ in found]
    for note in notes:
        if note in skip:
            continue
        for i in _relied_on(kb.info(note), by_name):
            hits[i].append(note)
    impacts = [Impact(path, why, sorted(hits[i])[:MAX_LISTED])
               for i, (path, why, _names) in enumerate(found)]
    return [i for i in impacts if i.dependents]


def _relied_on(info, by_name: dict[str, set[int]]) -> set[int]:
    """Which weakened claims (by position) this note links to or depends on."""
    targets = [t for t, _line, _raw in info.links] + info.depends_on
    found: set[int] = set()
    for target in targets:
        name = target.strip().strip("[]").split("|")[0].split("#")[0]
        found |= by_name.get(_normal(name.rsplit("/", 1)[-1].removesuffix(".md")), set())
    return found


@lru_cache(maxsize=1 << 16)
def _normal(name: str) -> str:
    # Bases link the same targets over and over; bounded, so hostile text cannot grow it.
    return normalize_name(name)
