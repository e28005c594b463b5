"""`claim-review init`: look at a knowledge base and propose the rubric that fits it.

What it reads is what the notes say about themselves, never a guess from their words:

- **Which notes are claims.** The `type` value claims carry (`claim` when any note says so;
  else the type of the notes that carry a `confidence`). A folder whose typed notes are
  mostly claims (three in four or more) becomes a claim path (`claims.paths`), searched
  from the top: `domains/**` rather than each of its subfolders. Inside a claim path, a note
  whose `type` is another document type the base uses (`framework`, `topic-map`,
  `analysis`...) is not a misfiled claim, and goes to `claims.exclude`; so does a note with
  no `type` and none of a claim's fields whose frontmatter reads well, or that has none and
  is named as a map or an index (`_map.md`, `README.md`, the folder's own name). A note
  with no `type` but claim fields, or broken frontmatter, or a `type` spelt like the claim
  type (`Claim`, `claims`), stays a claim, and the review reports it. Outside the claim
  paths, a note is a claim when its `type` says so.
- **Domains.** The `domain` (and `secondary_domains`) values of claims that two or more
  claims use, or that name a folder claims sit in; a value used once is left out and
  listed, since it is as likely a typo as a domain.
- **Confidence levels.** The default four, plus any other level two or more claims use.
- **File names.** Titles verbatim, slugs of the titles, or a mix: `checks.schema.title_match`.
- **Fields.** Frontmatter keys three or more claims use become `schema.optional`.
- **A preset.** When a built-in preset (`teleo-codex`) already lists nine in ten of the
  claims' domains, the rubric `extends` it and states only what differs.
"""

from __future__ import annotations

import difflib
import json
import posixpath
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewer.claim import Claim, slugify
from reviewer.kb import KnowledgeBase
from reviewer.rubric import Rubric, builtin_data, builtin_names, load_rubric
from reviewer.sources import DirSource

CLAIM_SHARE = 0.75  # a folder whose typed notes are at least this share claims is a claim path
PRESET_FIT = 0.9  # a preset fits when it lists this share of the claims' domains
MIN_USES = 2  # a domain or confidence level used by fewer claims is not adopted
FIELD_USES = 3  # a frontmatter key used by this many claims joins schema.optional
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass
class Survey:
    """What init found, and the rubric it proposes."""

    notes: int = 0
    claim_type: str = "claim"
    types: Counter = field(default_factory=Counter)  # type value -> notes
    claims: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)  # claims.paths
    exclude: list[str] = field(default_factory=list)  # claims.exclude
    excluded_types: Counter = field(default_factory=Counter)  # why, for the summary
    domains: list[str] = field(default_factory=list)
    rare_domains: list[str] = field(default_factory=list)
    confidence: list[str] = field(default_factory=list)
    title_match: str = "either"
    names: Counter = field(default_factory=Counter)  # title, slug, other
    optional: list[str] = field(default_factory=list)
    extends: str = "default"

    def summary(self) -> list[str]:
        other = ", ".join(f"{t} {n}" for t, n in self.excluded_types.most_common())
        lines = [
            f"{self.notes} notes; claims are notes with type: {self.claim_type} "
            f"({len(self.claims)} of them)",
            "claims.paths (folders whose typed notes are mostly claims): "
            + (", ".join(self.paths) or "none; claims are found by their type"),
            f"claims.exclude: {len(self.exclude)} entries for notes in those folders that are "
            f"not claims ({other or 'none'})",
            f"schema.domains: {len(self.domains)} values"
            + (f"; left out, used by one claim only: {', '.join(self.rare_domains)}"
               if self.rare_domains else ""),
            f"file names: {self.names['title']} titles, {self.names['slug']} slugs, "
            f"{self.names['other']} neither -> checks.schema.title_match: {self.title_match}",
            f"extends: {self.extends}",
        ]
        if self.optional:
            lines.append("schema.optional gains the fields claims use: "
                         + ", ".join(self.optional))
        return lines


def survey(root: Path) -> Survey:
    reading = load_rubric(None, None)  # the default rubric's files.include and exclude
    kb = KnowledgeBase(DirSource(root, reading.files_exclude), reading)
    kb.prefetch(kb.notes)
    notes = {path: kb.claim(path) for path in kb.notes}
    found = Survey(notes=len(notes))
    found.types = Counter(_type(c) for c in notes.values() if _type(c))
    found.claim_type = _claim_type(notes, found.types)
    claims = {p: c for p, c in notes.items() if _type(c) == found.claim_type}
    found.claims = sorted(claims)
    found.paths = _claim_paths(notes, found.claim_type)
    found.exclude, found.excluded_types = _excluded(notes, found)
    found.domains, found.rare_domains = _domains(claims)
    found.confidence = _confidence(claims, reading)
    found.names, found.title_match = _names(claims)
    found.optional = _optional(claims, reading)
    found.extends = _preset(found.domains)
    return found


def _type(claim: Claim) -> str | None:
    kind = claim.fm.get("type")
    return kind.strip() if isinstance(kind, str) and kind.strip() else None


def _claim_type(notes: dict[str, Claim], types: Counter) -> str:
    if "claim" in types:
        return "claim"
    rated = Counter(_type(c) for c in notes.values() if _type(c) and "confidence" in c.fm)
    return rated.most_common(1)[0][0] if rated else "claim"


def _claim_paths(notes: dict[str, Claim], claim_type: str) -> list[str]:
    """The highest folders whose typed notes are mostly claims (a type spelt like the
    claim type counts as one), from the top level down; never the root itself (its own
    notes are READMEs and indexes)."""
    tally: dict[str, Counter] = {}
    for path, claim in notes.items():
        kind = _type(claim)
        if kind is None:
            continue
        folder = posixpath.dirname(path)
        while folder:
            is_claim = kind == claim_type or _misspelt(kind, claim_type)
            tally.setdefault(folder, Counter())["claim" if is_claim else "other"] += 1
            folder = posixpath.dirname(folder)
    chosen: list[str] = []

    def visit(folder: str) -> None:
        counts = tally.get(folder, Counter())
        if counts["claim"] and counts["claim"] >= CLAIM_SHARE * (counts["claim"] +
                                                                counts["other"]):
            chosen.append(folder)
            return
        for child in sorted(f for f in tally if posixpath.dirname(f) == folder):
            visit(child)

    for top in sorted(f for f in tally if "/" not in f):
        visit(top)
    return [f"{folder}/**" for folder in chosen]


def _excluded(notes: dict[str, Claim], found: Survey) -> tuple[list[str], Counter]:
    """Notes under the claim paths that are not claims: another document type, or no type
    and no claim fields. Folders holding only such notes are excluded whole."""
    from reviewer.globs import matches

    claim_fields = {"domain", "description", "confidence", "source", "created"}
    out, why = set(), Counter()
    inside = {p: c for p, c in notes.items() if matches(p, found.paths)}
    for path, claim in inside.items():
        kind = _type(claim)
        if kind == found.claim_type or (kind and _misspelt(kind, found.claim_type)):
            continue
        if kind is None and not _plainly_not_a_claim(path, claim, claim_fields):
            continue  # perhaps a claim that lost its type: reviewed, and reported
        out.add(path)
        why[kind or "no type, no claim fields"] += 1
    return _folded(out, inside), why


def _plainly_not_a_claim(path: str, claim: Claim, claim_fields: set[str]) -> bool:
    """A note with no type: not a claim when its frontmatter reads well and holds no claim
    field, or when it has none and its name marks it as a map or an index. A note whose
    frontmatter is broken is kept: it may be a claim, and the review says what is wrong."""
    if claim_fields & set(claim.fm):
        return False
    problems = {f.rule for f in claim.problems}
    if problems - {"schema.no-frontmatter"}:
        return False
    if not problems:
        return True
    stem = claim.stem.lower()
    folder = posixpath.basename(posixpath.dirname(path)).lower()
    return stem.startswith("_") or stem in ("readme", "index", "moc") or stem == folder


def _misspelt(kind: str, claim_type: str) -> bool:
    return difflib.SequenceMatcher(None, kind.lower(), claim_type.lower()).ratio() >= 0.8


def _folded(excluded: set[str], inside: dict[str, Claim]) -> list[str]:
    """`folder/**` for a folder all of whose notes are excluded, else each path (a path
    is a glob that matches itself: `*` and `?` match their own characters too)."""
    folders = {posixpath.dirname(p) for p in excluded}
    whole = {f for f in folders if f and all(p in excluded for p in inside
                                            if p.startswith(f + "/"))}
    top = {f for f in whole if not any(f.startswith(g + "/") for g in whole)}
    entries = [f"{f}/**" for f in sorted(top)]
    rest = [p for p in excluded if not any(p.startswith(f + "/") for f in top)]
    # a name every folder uses for its map (`_map.md`): one glob, which also covers the
    # maps of folders added later
    names = Counter(posixpath.basename(p) for p in rest)
    shared = {n for n, k in names.items() if k >= 3 and all(
        p in excluded for p in inside if posixpath.basename(p) == n)}
    entries += [f"**/{n}" for n in sorted(shared)]
    entries += sorted(p for p in rest if posixpath.basename(p) not in shared)
    return entries


def _domains(claims: dict[str, Claim]) -> tuple[list[str], list[str]]:
    uses: Counter = Counter()
    folders = {part for path in claims for part in path.split("/")[:-1]}
    for claim in claims.values():
        values = [claim.fm.get("domain")]
        secondary = claim.fm.get("secondary_domains")
        values += secondary if isinstance(secondary, list) else []
        uses.update(v.strip() for v in values if isinstance(v, str) and v.strip())
    kept = sorted(v for v, n in uses.items() if n >= MIN_USES or v in folders)
    return kept, sorted(v for v in uses if v not in kept)


def _confidence(claims: dict[str, Claim], reading: Rubric) -> list[str]:
    levels = list(reading.schema["confidence"])
    uses = Counter(c.fm.get("confidence") for c in claims.values())
    extra = sorted(v for v, n in uses.items() if isinstance(v, str) and v not in levels
                   and n >= MIN_USES)
    return levels + extra


def _names(claims: dict[str, Claim]) -> tuple[Counter, str]:
    names: Counter = Counter()
    for claim in claims.values():
        if not claim.title:
            continue
        if slugify(claim.title) != slugify(claim.stem):
            names["other"] += 1
        elif _SLUG.fullmatch(claim.stem) and claim.stem != claim.title:
            names["slug"] += 1
        else:
            names["title"] += 1
    total = sum(names.values()) or 1
    if names["other"] > total / 2:
        mode = "off"  # file names are not titles here
    elif names["slug"] <= total * 0.02:
        mode = "verbatim"
    elif names["title"] <= total * 0.02:
        mode = "slug"
    else:
        mode = "either"
    return names, mode


def _optional(claims: dict[str, Claim], reading: Rubric) -> list[str]:
    known = set(reading.schema["required"]) | set(reading.schema["optional"])
    uses = Counter(k for c in claims.values() for k in c.fm if isinstance(k, str))
    return sorted(k for k, n in uses.items() if n >= FIELD_USES and k not in known)


def _preset(domains: list[str]) -> str:
    best = "default"
    for name in builtin_names():
        listed = set(builtin_data(name).get("schema", {}).get("domains") or [])
        if name != "default" and domains and listed and \
                len(listed & set(domains)) >= PRESET_FIT * len(domains):
            best = name
    return best


# -- the file ------------------------------------------------------------------------------
def rubric_text(found: Survey) -> str:
    """The proposed `.claim-review.yaml`, commented; only what differs from what it extends."""
    base = _effective(found.extends)
    lines = ["# Written by `claim-review init` from what this knowledge base's notes say about",
             "# themselves. Edit freely: `claim-review rubric` shows the effective rubric and",
             "# `claim-review explain CHECK` each check's options.",
             f"extends: {found.extends}", ""]
    schema = []
    if found.claim_type != base.schema["type"]:
        schema.append(f"  type: {_flow(found.claim_type)}")
    listed = list(base.schema.get("domains") or [])
    if found.domains and not set(found.domains) <= set(listed):
        schema += ["  # the domains two or more claims use, or that name a folder of claims"
                   + (f", and {found.extends}'s" if listed else ""),
                   f"  domains: {_flow(sorted(set(found.domains) | set(listed)))}"]
    if found.confidence != list(base.schema["confidence"]):
        schema.append(f"  confidence: {_flow(found.confidence)}")
    optional = list(base.schema["optional"])
    if found.optional:
        schema += ["  # fields three or more claims use",
                   f"  optional: {_flow(optional + found.optional)}"]
    if schema:
        lines += ["schema:", *schema, ""]
    lines += ["claims:",
              "  # folders whose typed notes are mostly claims",
              f"  paths: {_flow(found.paths)}",
              "  # notes in those folders that are not claims: another document type, or no",
              "  # type and no claim fields (maps, READMEs)",
              "  exclude:" + ("" if found.exclude else " []")]
    lines += [f"    - {_flow(p)}" for p in found.exclude]
    lines.append("")
    if found.title_match != base.options("schema")["title_match"]:
        lines += ["checks:", "  schema:",
                  f"    title_match: {found.title_match}  # file names: "
                  f"{found.names['title']} titles, {found.names['slug']} slugs", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _effective(extends: str) -> Rubric:
    from reviewer.rubric import builtin_dir

    return load_rubric(builtin_dir() / f"{extends}.yaml")


def _flow(value: Any) -> str:
    """A YAML flow value: JSON strings and lists are YAML."""
    return json.dumps(value, ensure_ascii=False)
