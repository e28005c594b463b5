"""duplication: the claim does not restate a claim the knowledge base already holds.

What it checks
    Each claim's title is compared with the title of every existing claim and
    of every other claim in the same change, after normalising case, slugs,
    hyphens and punctuation. At or above `error_threshold`, in the same word
    order, it is a duplicate (error, `duplicate_of` names the existing file);
    at or above `warning_threshold` in any word order ("B causes A" against
    "A causes B"), or when the descriptions are nearly identical, it is a
    possible duplicate (warning) and the top candidates are kept for the judge.
    Within one change, the later file (in path order) is the one reported.

    A possible duplicate says how its title differs from the candidate it
    names: `difference` holds `only_in_claim` (the words of the proposed title
    the candidate's title lacks) and `only_in_candidate` (the reverse), in
    title order, and the message shows them as +'in cities' / -'in suburbs'
    (at most 8 words a side, then "…").
    Words are compared after the normalisation above (lower case, hyphens and
    punctuation gone). Stopwords are kept, since "not", "in" or "than" is
    often the whole difference; a word repeated counts as often as it occurs,
    a word that only moved is no difference, and the titles are aligned on
    their longest common runs of words first, so a repeated word is reported
    where the titles differ.

Why it matters
    Two claims that say the same thing split the links, evidence and challenges
    that should accumulate on one of them.

Options
    error_threshold (95), warning_threshold (85), description_threshold (90):
        similarity scores from 0 to 100.
    candidates (3): how many close claims to keep for the judge.
    candidate_floor (60): the least title similarity for a claim to be kept as a
        candidate for the judge (below warning_threshold nothing is reported).

Failing example
    Existing: "Bus lanes cut commute times because buses stop idling in traffic"
    Proposed: "Bus-lanes cut commute times, because buses stop idling in traffic"

Passing example
    Proposed: "Off-board fare payment shortens bus dwell time by a fifth"

What the judge is asked
    Whether a possible duplicate makes the same assertion in other words.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

from reviewer.claim import Claim, comparable, normalize_name
from reviewer.findings import ERROR, WARNING, Finding, make
from reviewer.kb import ReviewContext
from reviewer.nearby import Nearby

if TYPE_CHECKING:
    from reviewer.index import NoteInfo

ID = "duplication"
TITLE = "Duplicate/redundancy"
RULES = {
    "duplication.duplicate": ERROR,
    "duplication.possible-duplicate": WARNING,
}
RULE_DOCS = {
    "duplication.duplicate": (
        "Flags a claim whose title, compared word for word in the same order after case, "
        "hyphens, slugs and punctuation are normalised, is at least 'error_threshold' (95) "
        "similar to an existing claim or to an earlier file of the same change (in path "
        "order). Two claims that say the same thing split the links, evidence and challenges "
        "that should build up on one of them. The finding names the existing file in "
        "'duplicate_of' and keeps the closest candidates for the judge. "
        "Example: proposing 'Bus-lanes cut commute times, because buses stop idling' when "
        "'Bus lanes cut commute times because buses stop idling' exists."),
    "duplication.possible-duplicate": (
        "Flags a claim whose title is at least 'warning_threshold' (85) similar to an existing "
        "claim's title in any word order, or whose description (five words or more) is at "
        "least 'description_threshold' (90) similar to an existing description, when no "
        "candidate is close enough to be a duplicate. Reversed titles ('B causes A' against "
        "'A causes B') land here rather than under duplicate, since word order carries "
        "direction. It is a warning: a paraphrase and a related claim look alike to a string "
        "measure, and the judge or a reviewer decides; the candidates travel in "
        "'candidates', and 'difference' lists the title words only the claim has and only "
        "the candidate has, also shown in the message. Example: 'Signal priority shortens "
        "bus journeys on long-cycle corridors' against the existing 'Signal priority "
        "shortens bus trips on long-cycle corridors' (differs: +'journeys' / -'trips')."),
}
DEFAULTS = {
    "error_threshold": 95,
    "warning_threshold": 85,
    "description_threshold": 90,
    "candidates": 3,
    "candidate_floor": 60,
}
LIMITS = {"error_threshold": (0, 100), "warning_threshold": (0, 100),
          "description_threshold": (0, 100), "candidates": (1, 20), "candidate_floor": (0, 100)}
_ALIGN_LIMIT = 10_000  # word pairs aligned for a difference; titles are tens of words


def prepare(ctx: ReviewContext, options: dict) -> dict[str, list]:
    """Score each claim under review against existing claims and earlier claims of the
    change (in an audit shard, earlier claims of the whole base: its peers count too)."""
    exclude = ctx.change_paths | set(ctx.removed) | set(ctx.peers)
    existing = ctx.base.title_entries(exclude)
    own = {claim.path: claim for claim in ctx.claims}
    peers = {path: ctx.base.info(path) for path in ctx.peers if path not in own}
    later = [(c.title, c.field_text("description")) for c in ctx.claims]
    later += [(_title_of(info), info.description) for info in peers.values()]
    pool = Pool(existing, later, len(own))
    for entry in existing:
        pool.add(entry.path, entry.title, entry.description, entry.title_key,
                 entry.description_key)
    results: dict[str, list] = {}
    for path in sorted([*own, *peers]):
        claim = own.get(path)
        if claim is None:
            pool.add(path, _title_of(peers[path]), peers[path].description)
            continue
        results[path] = _candidates(claim, pool, options)
        pool.add(path, claim.title, claim.field_text("description"))
    return results


def _title_of(info: NoteInfo) -> str:
    """A peer's title as its parsed claim has it: none for a file that cannot be read."""
    return "" if info.unreadable else info.title


BLOCKING_FROM = 5_000_000  # comparisons: above this, search through Nearby, not all pairs
# Building Nearby costs about as much as a few hundred all-pairs queries of the same
# pool, so a review of a few dozen claims, however large the base, compares all pairs.
BLOCKING_QUERIES = 200


class Pool:
    """The claims a title is compared with. Past BLOCKING_FROM comparisons (a whole base
    of a few thousand claims), candidates come from an inverted index of word keys
    (reviewer/nearby.py) instead of every pair."""

    def __init__(self, existing: list, later: list[tuple[str, str]], queries: int):
        """`later`: (title, description) of what is added after `existing`; `queries`: how
        many claims will be looked up."""
        self.entries: list[tuple[str, str, str]] = []
        self.titles: list[str] = []
        self.descriptions: list[str] = []
        self.near = None
        if queries > BLOCKING_QUERIES and (len(existing) + len(later)) * queries > BLOCKING_FROM:
            titles = [e.title_key or comparable(e.title) for e in existing]
            titles += [comparable(title) for title, _d in later]
            descriptions = [e.description_key or comparable(e.description)
                            for e in existing]
            descriptions += [comparable(description) for _t, description in later]
            self.near = (Nearby(titles), Nearby(descriptions))

    def add(self, path: str, title: str, description: str, title_key: str = "",
            description_key: str = "") -> None:
        self.entries.append((path, title, description))
        self.titles.append(title_key or comparable(title))
        self.descriptions.append(description_key or comparable(description))
        if self.near is not None:
            self.near[0].add(self.titles[-1])
            self.near[1].add(self.descriptions[-1])

    def best(self, query: str, which: int, limit: int, cutoff: float) -> list[tuple[float, int]]:
        """(score, index) of the closest titles (which=0) or descriptions (1)."""
        strings = self.titles if which == 0 else self.descriptions
        subset = self.near[which].candidates(query) if self.near is not None else None
        if subset is None:
            return [(score, i) for _s, score, i in process.extract(
                query, strings, scorer=fuzz.ratio, limit=limit, score_cutoff=cutoff)]
        if not subset:
            return []
        found = process.extract(query, [strings[i] for i in subset], scorer=fuzz.ratio,
                                limit=limit, score_cutoff=cutoff)
        return [(score, subset[j]) for _s, score, j in found]


def _candidates(claim: Claim, pool: Pool, options: dict) -> list[dict]:
    found: dict[int, dict] = {}
    title = comparable(claim.title)
    entries, titles, descriptions = pool.entries, pool.titles, pool.descriptions
    if title:
        for score, i in pool.best(title, 0, options["candidates"], options["candidate_floor"]):
            found[i] = {"path": entries[i][0], "title": entries[i][1],
                        "title_score": round(score, 1)}
    description = comparable(claim.field_text("description"))
    if len(description.split()) >= 5:
        for score, i in pool.best(description, 1, options["candidates"],
                                  options["description_threshold"]):
            entry = found.setdefault(i, {"path": entries[i][0], "title": entries[i][1],
                                         "title_score": round(fuzz.ratio(
                                             title, titles[i]), 1)})
            entry["description_score"] = round(score, 1)
    own, own_clauses = normalize_name(claim.title), clauses(claim.title)
    for i, entry in found.items():
        if "description_score" not in entry and description:
            entry["description_score"] = round(fuzz.ratio(description, descriptions[i]), 1)
        # word order carries direction: "A causes B" does not duplicate "B causes A"
        entry["ordered_score"] = round(fuzz.ratio(own, normalize_name(entry["title"])), 1)
        if own_clauses.count("|") >= 1:  # clause order does not: "X because Y" = "because Y, X"
            entry["clause_score"] = round(fuzz.ratio(own_clauses, clauses(entry["title"])), 1)
    ranked = sorted(found.values(), key=lambda e: (-e["title_score"], e["path"]))
    return ranked[: options["candidates"]]


# the answer field in which the judge names the candidate a claim restates, and its help
JUDGE_REFERENCE = ("duplicate_of", "the path of the duplicate candidate the claim restates "
                   "in other words, exactly as given; empty when it restates none")


def judge_candidates(claim: Claim, ctx: ReviewContext) -> list[dict]:
    """The closest existing claims, which the judge sees and may name in duplicate_of."""
    return ctx.state.get(ID, {}).get(claim.path, [])


def validate(claim: Claim, ctx: ReviewContext, options: dict) -> Iterator[Finding]:
    candidates = ctx.state.get(ID, {}).get(claim.path, [])
    line = claim.title_line or 1
    for c in candidates:
        reordered = c.get("clause_score", 0) >= options["error_threshold"] \
            and c.get("description_score", 0) >= options["description_threshold"]
        if c["ordered_score"] >= options["error_threshold"] or reordered:
            how = (f"similarity {c['ordered_score']:.0f} >= {options['error_threshold']}"
                   if not reordered or c["ordered_score"] >= options["error_threshold"] else
                   f"the same clauses in another order, similarity {c['clause_score']:.0f}, "
                   f"and descriptions {c['description_score']:.0f} alike")
            yield make(ID, "duplicate", claim.path, line,
                       f"title duplicates the existing claim '{c['path']}' ({how})",
                       "add this evidence to the existing claim instead, or sharpen the title "
                       "to say what is new", duplicate_of=c["path"], candidates=candidates)
            return
    for c in candidates:
        by_title = c["title_score"] >= options["warning_threshold"]
        if by_title or c.get("description_score", 0) >= options["description_threshold"]:
            what, score = ("title", c["title_score"]) if by_title else \
                ("description", c["description_score"])
            difference = title_difference(claim.title, c["title"])
            yield make(ID, "possible-duplicate", claim.path, line,
                       f"{what} is close to the existing claim '{c['path']}' "
                       f"(similarity {score:.0f}); differs: {_show(claim.title, c['title'])}",
                       "check that this says something the existing claim does not; "
                       "link to it if related", candidates=candidates, difference=difference)
            return


_CLAUSE_BREAK = re.compile(r"[,;:\u2014\u2013]|\s-\s")
_CONNECTIVE = re.compile(r"\b(because|since|while|whereas|although|though|unless|"
                         r"given that|so that|which)\b")


def clauses(title: str) -> str:
    """The title's clauses, normalised and sorted, joined by ' | ': the same for "X
    because Y" and "Because Y, X", different for "A causes B" and "B causes A"."""
    marked = _CONNECTIVE.sub(r"|\1", _CLAUSE_BREAK.sub("|", title.lower()))
    parts = sorted(p for p in (normalize_name(part) for part in marked.split("|")) if p)
    return " | ".join(parts)


def title_difference(title: str, other: str) -> dict[str, list[str]]:
    """The words of `title` that `other` lacks and the reverse, each in title order, after
    normalising case, hyphens and punctuation. Stopwords are kept: 'in', 'not' or 'than' is
    often the whole difference between two claims. A word repeated counts as often as it
    occurs; a word that only moved is no difference."""
    mine, theirs = normalize_name(title).split(), normalize_name(other).split()
    added, dropped = _leftovers(mine, theirs)
    return {"only_in_claim": [mine[i] for i in added],
            "only_in_candidate": [theirs[i] for i in dropped]}


def _leftovers(mine: list[str], theirs: list[str]) -> tuple[list[int], list[int]]:
    """Positions of the words each side has that the other lacks. The titles are aligned
    first (longest common runs of words), so that of a word repeated, the copy where the
    titles differ is the one reported: 'the bus lane effect: the lanes cut delays' against
    'the lanes cut delays' reports 'the bus lane effect'. Unaligned words found on both
    sides only moved. Past _ALIGN_LIMIT word pairs only the common beginning and end are
    aligned, which keeps the cost linear for very long titles."""
    if len(mine) * len(theirs) <= _ALIGN_LIMIT:
        blocks = SequenceMatcher(None, mine, theirs, autojunk=False).get_matching_blocks()
        used_a = {a + k for a, _b, size in blocks for k in range(size)}
        used_b = {b + k for _a, b, size in blocks for k in range(size)}
        rest_a = [i for i in range(len(mine)) if i not in used_a]
        rest_b = [i for i in range(len(theirs)) if i not in used_b]
    else:
        head = 0
        while head < min(len(mine), len(theirs)) and mine[head] == theirs[head]:
            head += 1
        tail = 0
        while (tail < min(len(mine), len(theirs)) - head
               and mine[-1 - tail] == theirs[-1 - tail]):
            tail += 1
        rest_a = list(range(head, len(mine) - tail))
        rest_b = list(range(head, len(theirs) - tail))
    return (_missing(mine, rest_a, [theirs[i] for i in rest_b]),
            _missing(theirs, rest_b, [mine[i] for i in rest_a]))


def _missing(words: list[str], positions: list[int], other: list[str]) -> list[int]:
    """Those of `positions` whose word is left over once each word of `other` is matched."""
    left = Counter(other)
    missing = []
    for i in positions:
        if left[words[i]] > 0:
            left[words[i]] -= 1
        else:
            missing.append(i)
    return missing


def _show(title: str, other: str, limit: int = 8) -> str:
    """The words only the claim has, then those only the candidate has, words next to each
    other in a title quoted together: +'in cities' / -'in suburbs'."""
    mine, theirs = normalize_name(title).split(), normalize_name(other).split()
    added, dropped = _leftovers(mine, theirs)
    if not added and not dropped:
        return "the same words" if mine == theirs else "the same words in another order"
    return f"+{_runs(mine, added, limit)} / -{_runs(theirs, dropped, limit)}"


def _runs(words: list[str], positions: list[int], limit: int) -> str:
    if not positions:
        return "(nothing)"
    runs: list[list[str]] = []
    for n, i in enumerate(positions[:limit]):
        if n and i == positions[n - 1] + 1:
            runs[-1].append(words[i])
        else:
            runs.append([words[i]])
    more = " …" if len(positions) > limit else ""
    return ", ".join(f"'{' '.join(run)}'" for run in runs) + more
