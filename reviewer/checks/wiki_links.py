"""wiki_links: every `[[link]]` resolves to a note of the knowledge base.

What it checks
    Each wiki link of the body (`[[target]]`, `[[target|alias]]`,
    `[[target#heading]]`, `![[embed]]`; code is ignored) resolves the way
    Obsidian resolves it: by file name without `.md`, case-insensitively, with
    or without a folder prefix, `./` and `../` from the linking note's folder.
    Notes added by the same change count. A broken
    link names the closest existing notes; a name shared by several notes is
    ambiguous; a link that climbs out of the repository (`[[../../x]]`) is
    broken and never read; a `#heading` or `#^block` part must exist in the
    note it points at (`[[#Heading]]` alone points into the claim itself).
    Entries of the `reference_fields` lists (`depends_on`) that are
    `[[links]]`, or nearly match a note's name, must resolve too (other
    entries may be free-text evidence). In `diff`, a change that deletes or
    renames a note also reports the links elsewhere that it breaks.

Why it matters
    Links are the knowledge base's reasoning graph. A broken link is an argument
    with a missing premise, and it rots silently.

Options
    suggestions (3): how many close notes a broken-link message names.
    suggestion_cutoff (60): the least similarity for a suggestion.
    reference_fields ([depends_on]): frontmatter lists whose entries name notes.
    reference_cutoff (85): a plain (unbracketed) entry of those lists may be free-text
        evidence; it is reported only when a note's name is at least this similar.

Failing example
    Since [[bus lanes cut comute times]], ...   (misspelled)

Passing example
    Since [[Bus lanes cut commute times]], ...

What the judge is asked
    Nothing: link resolution is exact. The judge sees the titles of linked notes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rapidfuzz import fuzz

from reviewer.claim import Claim, Link, comparable, normalize_name
from reviewer.findings import ERROR, WARNING, Finding, make
from reviewer.index import NoteInfo, info_of
from reviewer.kb import AMBIGUOUS, MISSING, OK, OUTSIDE, ReviewContext

ID = "wiki_links"
TITLE = "Wiki links"
RULES = {
    "wiki_links.broken-link": ERROR,
    "wiki_links.link-outside-kb": ERROR,
    "wiki_links.ambiguous-link": WARNING,
    "wiki_links.broken-heading": WARNING,
    "wiki_links.unresolved-reference": WARNING,
    "wiki_links.link-broken-by-change": ERROR,
}
RULE_DOCS = {
    "wiki_links.broken-link": (
        "Flags a wiki link of the body ('[[target]]', with or without '|alias', '#heading' or "
        "a leading '!') that resolves to no note and no attachment of the knowledge base, "
        "including notes added by the same change. Links resolve by file name, "
        "case-insensitively, with or without a folder prefix; links in code are ignored. The "
        "message names up to 'suggestions' existing notes at least 'suggestion_cutoff' "
        "similar, and the hint offers the best one. A broken link is an argument with a "
        "missing premise. Example: '[[bus lanes cut comute times]]' where the note is 'Bus "
        "lanes cut commute times'."),
    "wiki_links.link-outside-kb": (
        "Flags a wiki link whose path climbs above the knowledge-base root: a target that "
        "starts with '../' after normalisation, or a './' or '../' link that leaves the root "
        "from the linking note's folder. Such a target is never read. A knowledge base links "
        "to its own notes; a link out of the repository is a mistake at best and a probe for "
        "files on the reviewer's machine at worst. "
        "Example: '[[../../../etc/passwd]]' in a note two folders deep."),
    "wiki_links.ambiguous-link": (
        "Flags a wiki link whose name matches several notes in different folders when none "
        "of them sits in the linking note's own folder (the one Obsidian would pick). The "
        "link may point at a different note for each reader and tool. It is a warning: the "
        "link works, but not reliably. "
        "Example: '[[Overview]]' when both 'domains/health/Overview.md' and "
        "'domains/energy/Overview.md' exist; write '[[domains/health/Overview]]'."),
    "wiki_links.broken-heading": (
        "Flags a link to a heading or block that does not exist in the note it points at: "
        "'[[note#Heading]]' needs a heading with that text (compared after normalising case "
        "and punctuation), '[[note#Outer#Inner]]' needs the last part, '[[note#^id]]' needs "
        "a line ending in '^id', and '[[#Heading]]' points into the claim itself. The note "
        "exists, so readers still land somewhere; it is a warning. "
        "Example: '[[Cover crops raise soil carbon#Evidence]]' when that note has no Evidence "
        "heading."),
    "wiki_links.unresolved-reference": (
        "Flags an entry of a 'reference_fields' list (depends_on) that names no note. An "
        "entry written as '[[link]]' must resolve. A plain entry may be free-text evidence "
        "('Okafor 2023 field trial'), so it is reported only when an existing note's name is "
        "at least 'reference_cutoff' (85) similar, which points at a misspelled or re-slugged "
        "title. The reasoning chain in depends_on is what makes a claim checkable. Example: "
        "'depends_on: [\"Transit signal priority yields larger time savings on corridors "
        "with long signal cycle\"]' (the note's name ends in 'cycles')."),
    "wiki_links.link-broken-by-change": (
        "Flags, in 'diff', a link in a note outside the change that resolved before and "
        "resolves to nothing once the change deletes or renames its target. It is reported on "
        "the file that holds the link, which the change did not touch, so the author of the "
        "rename sees what else must be updated. Example: a pull request renames 'Bus lanes "
        "cut delays.md' to 'Bus lanes cut peak delays.md' while three maps still link "
        "'[[Bus lanes cut delays]]'."),
}
DEFAULTS = {"suggestions": 3, "suggestion_cutoff": 60, "reference_fields": ["depends_on"],
            "reference_cutoff": 85}
LIMITS = {"suggestions": (0, 20), "suggestion_cutoff": (0, 100), "reference_cutoff": (0, 100)}


def validate(claim: Claim, ctx: ReviewContext, options: dict) -> Iterator[Finding]:
    for link in claim.links:
        if not link.target and link.heading:  # [[#Heading]]: a place in this very note
            yield from _check_heading(claim.path, link, info_of(claim))
            continue
        yield from _check_link(claim.path, link, ctx, options)
    for name in options["reference_fields"]:
        yield from _references(claim, name, ctx, options)


def _check_link(path: str, link: Link, ctx: ReviewContext, options: dict) -> Iterator[Finding]:
    target, raw, line = link.target, link.raw, link.line
    found = ctx.kb.resolve(target, path)
    if found.status == OUTSIDE:
        yield make(ID, "link-outside-kb", path, line,
                   f"link {raw} points outside the knowledge base",
                   "link to a note inside the repository by its name", target=target)
    elif found.status == MISSING:
        suggestions = _suggest(target, ctx, options)
        also = f"; closest: {', '.join(suggestions)}" if suggestions else ""
        hint = f"did you mean [[{suggestions[0]}]]?" if suggestions else \
            "create the note, or remove the link"
        yield make(ID, "broken-link", path, line,
                   f"link {raw} resolves to no note{also}", hint, target=target,
                   suggestions=suggestions, column=link.column)
    elif found.status == AMBIGUOUS:
        yield make(ID, "ambiguous-link", path, line,
                   f"link {raw} matches {len(found.paths)} notes: {', '.join(found.paths)}",
                   "add the folder to the link, e.g. [[" + found.paths[0][:-3] + "]]",
                   target=target, candidates=found.paths)
    elif link.heading and found.paths[0].lower().endswith(".md"):
        yield from _check_heading(path, link, ctx.kb.info(found.paths[0]))


def _check_heading(path: str, link: Link, note: NoteInfo) -> Iterator[Finding]:
    """`[[note#Heading]]`, `[[note#Outer#Inner]]` and `[[note#^block-id]]` must exist."""
    wanted = link.heading.rsplit("#", 1)[-1].strip()
    if wanted.startswith("^"):
        found = wanted[1:] in note.blocks
        what = f"block ^{wanted[1:]}"
    else:
        found = normalize_name(wanted) in note.headings
        what = f"heading '{wanted}'"
    if not found:
        yield make(ID, "broken-heading", path, link.line,
                   f"link {link.raw}: {note.path} has no {what}",
                   "link to a heading that exists in the note, or drop the #part",
                   target=link.target, heading=link.heading, column=link.column)


def _suggest(target: str, ctx: ReviewContext, options: dict) -> list[str]:
    if not target.strip() or options["suggestions"] <= 0:
        return []
    return ctx.kb.suggest(target, options["suggestions"], options["suggestion_cutoff"])


def _references(claim: Claim, name: str, ctx: ReviewContext, options: dict) -> Iterator[Finding]:
    """`[[...]]` entries must resolve. Plain entries may be free-text evidence, so only one
    that nearly matches a note's name (a misspelled or re-slugged title) is reported."""
    values = claim.fm.get(name)
    if not isinstance(values, list):
        return
    for value in values:
        if not isinstance(value, str) or not value.strip():
            continue
        target = value.strip()
        linked = target.startswith("[[") and target.endswith("]]")
        if linked:
            target = target[2:-2].split("|")[0].split("#")[0]
        if ctx.kb.resolve(target, claim.path).status != MISSING:
            continue
        cutoff = options["suggestion_cutoff"] if linked else options["reference_cutoff"]
        suggestions = ctx.kb.suggest(target, options["suggestions"], cutoff) \
            if options["suggestions"] > 0 else []
        if not linked and not suggestions:
            continue
        hint = f"did you mean '{suggestions[0]}'?" if suggestions else \
            "name an existing note exactly, or drop the entry"
        yield make(ID, "unresolved-reference", claim.path, claim.line_of(name),
                   f"{name} entry '{_clip(target)}' names no note of the knowledge base",
                   hint, target=target, suggestions=suggestions)


def validate_change(ctx: ReviewContext, options: dict) -> list[Finding]:
    """Links in notes outside the change that the change's deletions and renames break."""
    if not ctx.removed:
        return []
    changed = ctx.change_paths
    findings = []
    for note, (target, line, raw) in ctx.kb.links_to(set(ctx.removed)):
        if note in changed or ctx.kb.resolve(target, note).status != MISSING:
            continue
        findings.append(make(ID, "link-broken-by-change", note, line,
                             f"link {raw} breaks: this change deletes or renames its note",
                             "update the link to the note's new name, or restore the note",
                             target=target))
    return findings


LINK_CERTAIN = 85  # least similarity of a broken link target to its single suggestion


def fix(finding: Finding, line: str, claim: Claim, ctx: ReviewContext,
        options: dict) -> str | None:
    """A broken link with exactly one close suggestion that resolves: `line` with the
    link's target replaced, when the target occurs once on it."""
    target = finding.extras.get("target")
    suggestions = finding.extras.get("suggestions") or []
    if finding.rule != "wiki_links.broken-link" or not isinstance(target, str) or not target \
            or len(suggestions) != 1:
        return None
    best = str(suggestions[0])
    if fuzz.ratio(comparable(target.rsplit("/", 1)[-1]), comparable(best)) < LINK_CERTAIN:
        return None
    if ctx.kb.resolve(best, claim.path).status != OK:
        return None
    pattern = re.compile(r"\[\[\s*" + re.escape(target) + r"\s*(?=[\]|#])")
    if len(pattern.findall(line)) != 1:
        return None
    return pattern.sub(lambda _m: "[[" + best, line)


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
