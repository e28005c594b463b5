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

from collections.abc import Iterator

from rapidfuzz import fuzz, process

from reviewer.claim import Claim, comparable, normalize_name
from reviewer.findings import ERROR, WARNING, Finding, make
from reviewer.kb import ReviewContext

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
        "measure, and the judge or a reviewer decides; the candidates travel in 'candidates'. "
        "Example: 'Signal priority shortens bus journeys on long-cycle corridors' against "
        "the existing 'Signal priority shortens bus trips on long-cycle corridors'."),
}
DEFAULTS = {
    "error_threshold": 95,
    "warning_threshold": 85,
    "description_threshold": 90,
    "candidates": 3,
    "candidate_floor": 60,
}


def prepare(ctx: ReviewContext, options: dict) -> dict[str, list]:
    """Score each claim under review against existing claims and earlier claims of the change."""
    exclude = ctx.change_paths | set(ctx.removed)
    existing = ctx.base.title_entries(exclude)
    pool = [(e.path, e.title, e.description) for e in existing]
    titles = [comparable(t) for _, t, _ in pool]
    descriptions = [comparable(d) for _, _, d in pool]
    results: dict[str, list] = {}
    for claim in sorted(ctx.change, key=lambda c: c.path):
        results[claim.path] = _candidates(claim, pool, titles, descriptions, options)
        pool.append((claim.path, claim.title, claim.field_text("description")))
        titles.append(comparable(claim.title))
        descriptions.append(comparable(claim.field_text("description")))
    return results


def _candidates(claim: Claim, pool: list, titles: list[str], descriptions: list[str],
                options: dict) -> list[dict]:
    found: dict[int, dict] = {}
    title = comparable(claim.title)
    if title:
        for _, score, i in process.extract(title, titles, scorer=fuzz.ratio,
                                           limit=options["candidates"],
                                           score_cutoff=options["candidate_floor"]):
            found[i] = {"path": pool[i][0], "title": pool[i][1], "title_score": round(score, 1)}
    description = comparable(claim.field_text("description"))
    if len(description.split()) >= 5:
        for _, score, i in process.extract(description, descriptions, scorer=fuzz.ratio,
                                           limit=options["candidates"],
                                           score_cutoff=options["description_threshold"]):
            entry = found.setdefault(i, {"path": pool[i][0], "title": pool[i][1],
                                         "title_score": round(fuzz.ratio(
                                             title, titles[i]), 1)})
            entry["description_score"] = round(score, 1)
    own = normalize_name(claim.title)
    for entry in found.values():
        # word order carries direction: "A causes B" does not duplicate "B causes A"
        entry["ordered_score"] = round(fuzz.ratio(own, normalize_name(entry["title"])), 1)
    ranked = sorted(found.values(), key=lambda e: (-e["title_score"], e["path"]))
    return ranked[: options["candidates"]]


def validate(claim: Claim, ctx: ReviewContext, options: dict) -> Iterator[Finding]:
    candidates = ctx.state.get(ID, {}).get(claim.path, [])
    line = claim.title_line or 1
    for c in candidates:
        if c["ordered_score"] >= options["error_threshold"]:
            yield make(ID, "duplicate", claim.path, line,
                       f"title duplicates the existing claim '{c['path']}' "
                       f"(similarity {c['ordered_score']:.0f} >= {options['error_threshold']})",
                       "add this evidence to the existing claim instead, or sharpen the title "
                       "to say what is new", duplicate_of=c["path"], candidates=candidates)
            return
    for c in candidates:
        by_title = c["title_score"] >= options["warning_threshold"]
        if by_title or c.get("description_score", 0) >= options["description_threshold"]:
            what, score = ("title", c["title_score"]) if by_title else \
                ("description", c["description_score"])
            yield make(ID, "possible-duplicate", claim.path, line,
                       f"{what} is close to the existing claim '{c['path']}' "
                       f"(similarity {score:.0f})",
                       "check that this says something the existing claim does not; "
                       "link to it if related", candidates=candidates)
            return
