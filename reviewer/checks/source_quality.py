"""source_quality: the `source` field says where the claim comes from, attributably.

What it checks
    `source` is substantive: placeholders ("unknown", "internet", "various",
    "n/a") and strings made only of vague words ("various internet articles")
    are errors; a source too thin to trace (fewer than `min_words` words and no
    year, URL or DOI) is a warning; a source with no year, URL or DOI gets a warning
    when `require_date_or_link` is set. A wiki link inside `source` must
    resolve. A blank or missing source is reported by the schema check.

Why it matters
    A claim is only as good as its traceable evidence. "Various articles"
    cannot be checked, challenged or updated.

Options
    placeholders, vague_words, min_words (3), require_date_or_link (true).

Failing example
    source: "various internet articles"

Passing example
    source: "Transport for London, Bus Priority Review, 2024, https://tfl.gov.uk/..."

What the judge is asked
    Whether the source is credible for what the claim asserts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from reviewer.claim import Claim
from reviewer.findings import ERROR, WARNING, Finding, make
from reviewer.kb import MISSING, OUTSIDE, ReviewContext
from reviewer.parse import find_links

ID = "source_quality"
TITLE = "Source quality"
RULES = {
    "source_quality.placeholder-source": ERROR,
    "source_quality.thin-source": WARNING,
    "source_quality.undated-source": WARNING,
    "source_quality.broken-source-link": ERROR,
}
RULE_DOCS = {
    "source_quality.placeholder-source": (
        "Flags a 'source' that is a placeholder ('unknown', 'internet', 'n/a', 'TBD', '-' "
        "... from 'placeholders'), or is made only of words from 'vague_words' and "
        "'placeholders' with no year, URL, DOI or wiki link. Such a source cannot be found, "
        "checked, challenged or updated, so the claim is unattributed. The other source "
        "rules are skipped for it. Example: 'source: \"various internet articles\"'."),
    "source_quality.thin-source": (
        "Flags a 'source' of fewer than 'min_words' (3) words that gives no year, URL, DOI or "
        "wiki link, too little to find the work by. An author or organisation with a year is "
        "traceable and passes. It is a warning: a short source may still be identifiable to "
        "a domain expert. Example: 'source: \"Halvorsen\"' (who, and which work?)."),
    "source_quality.undated-source": (
        "Flags, when 'require_date_or_link' is true, a 'source' long enough not to be thin "
        "that still gives no year (1500-2099), URL, DOI or wiki link. A year or a link is "
        "what tells two editions, versions or reports apart and lets a reader retrieve the "
        "work. Example: 'source: \"Transport for London, Bus Priority Review\"' with no year "
        "or address."),
    "source_quality.broken-source-link": (
        "Flags a wiki link inside 'source' that resolves to no note, or points outside the "
        "knowledge base. Knowledge bases that archive their sources as notes cite them by "
        "link, and a broken one leaves the claim with no traceable source. "
        "Example: 'source: \"[[Halvorsen 2024 bus lane study]]\"' when no such source note "
        "exists."),
}
DEFAULTS = {
    "placeholders": ["unknown", "internet", "various", "n/a", "na", "none", "tbd", "todo", "?",
                     "-", "web", "online", "google", "misc", "miscellaneous", "see above",
                     "see body", "source", "sources"],
    "vague_words": ["various", "internet", "online", "web", "articles", "article", "sources",
                    "source", "unknown", "misc", "some", "several", "many", "blogs", "blog",
                    "posts", "news", "reports", "the", "and", "of", "from", "on", "research",
                    "studies", "general", "knowledge", "common"],
    "min_words": 3,
    "require_date_or_link": True,
}
LIMITS = {"min_words": (0, 50)}

_LINKISH = re.compile(r"https?://|\bdoi:|\b10\.\d{4,}/|\[\[", re.IGNORECASE)
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")
_WORD = re.compile(r"[\w'’./-]+")


def validate(claim: Claim, ctx: ReviewContext, options: dict) -> Iterator[Finding]:
    source = claim.fm.get("source")
    if not isinstance(source, str) or not source.strip():
        return  # missing, blank or not text: the schema check reports it
    line = claim.line_of("source")
    text = source.strip()
    if _is_placeholder(text, options):
        yield make(ID, "placeholder-source", claim.path, line,
                   f"source '{text}' is a placeholder, not an attributable source",
                   "name the author or organisation, the work, and its year or URL",
                   value=text)
        return
    yield from _links(claim, text, line, ctx)
    words = _WORD.findall(text)
    dated = bool(_YEAR.search(text) or _LINKISH.search(text))
    if len(words) < options["min_words"] and not dated:  # "WHO 2023" is traceable
        yield make(ID, "thin-source", claim.path, line,
                   f"source '{text}' is too thin to trace ({len(words)} words, "
                   f"expected at least {options['min_words']}, or a year, URL or DOI)",
                   "add the author or organisation, the title of the work and its year",
                   value=text)
    elif options["require_date_or_link"] and not dated:
        yield make(ID, "undated-source", claim.path, line,
                   "source gives no year, URL or DOI to trace it by",
                   "add the year of publication or a link to the work", value=text)


def _is_placeholder(text: str, options: dict) -> bool:
    lowered = text.lower().strip(" .")
    if lowered in {p.lower() for p in options["placeholders"]}:
        return True
    vague = {w.lower() for w in [*options["vague_words"], *options["placeholders"]]}
    words = re.findall(r"[a-z/?-]+", lowered)
    return bool(words) and not _LINKISH.search(text) and not _YEAR.search(text) \
        and all(w in vague for w in words)


def _links(claim: Claim, text: str, line: int, ctx: ReviewContext) -> Iterator[Finding]:
    for link in find_links(text, line):
        if ctx.kb.resolve(link.target).status in (MISSING, OUTSIDE):
            yield make(ID, "broken-source-link", claim.path, line,
                       f"source link {link.raw} resolves to no note",
                       "archive the source note first, or cite the source in plain text",
                       target=link.target)
