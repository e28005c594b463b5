"""confidence: the confidence level matches the evidence the claim shows.

What it checks
    A claim rated at an evidence level (`proven`, `likely` by default) must show
    evidence in its body: an Evidence section or text matching one of the
    rubric's evidence patterns (figures, years, citations, DOIs, URLs). A
    `proven` claim whose own title, description or body (outside quotations
    and its Challenges section) hedges ("may", "suggests", "preliminary" ...)
    is flagged: a warning, an error when its source names a single work. A
    `likely` or `proven` claim that names no
    challenge (`challenged_by` or a Challenges section) gets an info note.

Why it matters
    Confidence is what readers and agents weigh claims by. A `proven` claim that
    says "may" is not proven; an unevidenced `likely` is a guess.

Options
    evidence_levels, evidence_sections, evidence_patterns (regular expressions),
    hedge_levels, hedge_words, counter_levels, challenge_fields, challenge_sections.

Failing example
    confidence: proven
    source: "Lee 2025 pilot study"
    # Nightly bus service may reduce drunk-driving crashes

Passing example
    confidence: likely
    # Nightly bus service cut drunk-driving crashes by 18% in three cities
    ## Evidence ... (a named study, figures)

What the judge is asked
    Whether the stated level matches the strength of the evidence, and whether
    the knowledge base holds counter-evidence the claim ignores.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from reviewer.claim import HEADING, Claim
from reviewer.findings import ERROR, INFO, WARNING, Finding, make
from reviewer.kb import ReviewContext

ID = "confidence"
TITLE = "Confidence"
RULES = {
    "confidence.missing-evidence": ERROR,
    "confidence.hedged-proven": WARNING,
    "confidence.hedged-proven-single-source": ERROR,
    "confidence.no-counter-evidence": INFO,
}
RULE_DOCS = {
    "confidence.missing-evidence": (
        "Flags a claim rated at one of the 'evidence_levels' (proven, likely) whose body, "
        "with its H1 title left out, has neither a heading named in 'evidence_sections' nor "
        "any match of the 'evidence_patterns' (percentages, years, 'et al.', DOIs, URLs, "
        "amounts, counts, long quotations, words such as study or trial). The title and "
        "description do not count: they state the claim, they do not support it. An "
        "unevidenced high-confidence claim is a guess that readers and agents will weigh as "
        "knowledge. Example: 'confidence: likely' over a body that only explains the "
        "mechanism in general terms."),
    "confidence.hedged-proven": (
        "Flags a claim rated at one of the 'hedge_levels' (proven) whose own title, "
        "description or body uses a hedge word ('may', 'suggests', 'preliminary', 'appears "
        "to' ...), as a whole word. Quotations ('>' lines), link list items ('- [[...'), and "
        "the Challenges section (where 'may' and 'could' are how counter-evidence is stated) "
        "are not the claim's own words and are skipped. A claim that hedges is not proven by "
        "its own account. It is a warning when the source names several works; only the "
        "first hedge is reported. Example: 'confidence: proven' with the description 'Early "
        "trials suggest a fifth fewer delays'."),
    "confidence.hedged-proven-single-source": (
        "The same hedge as hedged-proven, but the 'source' field names a single work: it has "
        "no separator between works (';', a new line, ' + ', 'and', '&', or a comma before a "
        "capital or a link). A hedged result from one study is the opposite of proven, so "
        "this is an error rather than a warning. "
        "Example: 'confidence: proven', 'source: \"Lee 2025 pilot study\"', and the title "
        "'Nightly bus service may reduce drunk-driving crashes'."),
    "confidence.no-counter-evidence": (
        "Notes a claim rated at one of the 'counter_levels' (proven, likely) that names no "
        "counter-evidence: every 'challenge_fields' field (challenged_by) is empty or missing, "
        "and no heading is, or starts with, one of the 'challenge_sections' names (Challenges, "
        "Limitations, Caveats ...). It is information only: the absence of a challenge on a "
        "high-confidence claim suggests the author did not look for opposing claims, but "
        "there may be none. Example: a 'likely' claim with no challenged_by field and no "
        "'## Challenges' section."),
}
DEFAULTS = {
    "evidence_levels": ["proven", "likely"],
    "evidence_sections": ["evidence", "data", "results", "findings", "sources", "references"],
    "evidence_patterns": [
        r"(?<!\d)\d+(\.\d+)?\s?(%|percent|x\b|×|fold)",
        r"\b(19|20)\d\d\b",
        r"\bet al\.?",
        r"\bdoi:|10\.\d{4,}/",
        r"https?://",
        r"\$\s?\d",
        r"\b\d{2,}(?:[,.]\d+)*\s+[a-z]",
        r'[“"][^”"\n]{40,}[”"]',
        r"\b(study|studies|trial|trials|survey|experiment|meta-analysis|dataset|census|audit|"
        r"report|paper|law|theorem)\b",
    ],
    "hedge_levels": ["proven"],
    "hedge_words": ["may", "might", "could", "suggests", "suggest", "preliminary", "possibly",
                    "perhaps", "appears to", "seems to", "likely to", "tentative",
                    "early evidence"],
    "counter_levels": ["proven", "likely"],
    "challenge_fields": ["challenged_by"],
    "challenge_sections": ["challenges", "counter-evidence", "counterevidence",
                           "counterarguments", "counter-arguments", "limitations",
                           "objections", "caveats"],
}

_SEPARATORS = re.compile(r";|\n|\s\+\s|\band\b|&|,\s*(?=[A-Z\[])")


def vet_options(options: dict) -> str | None:
    for pattern in options["evidence_patterns"]:
        try:
            re.compile(pattern)
        except re.error as exc:
            return (f"'checks.confidence.evidence_patterns' entry {pattern!r} is not a valid "
                    f"regular expression ({exc})")
    return None


def validate(claim: Claim, ctx: ReviewContext, options: dict) -> Iterator[Finding]:
    level = claim.fm.get("confidence")
    if not isinstance(level, str):
        return
    line = claim.line_of("confidence")
    if level in options["evidence_levels"] and not _has_evidence(claim, options):
        yield make(ID, "missing-evidence", claim.path, line,
                   f"confidence is '{level}' but the body cites no evidence "
                   "(no figures, dates, citations, links or Evidence section)",
                   "cite the study, data or source the claim rests on, or lower the confidence",
                   level=level)
    if level in options["hedge_levels"]:
        yield from _hedges(claim, level, options)
    if level in options["counter_levels"] and not _has_challenge(claim, options):
        yield make(ID, "no-counter-evidence", claim.path, line,
                   f"a '{level}' claim names no counter-evidence "
                   "(no challenged_by field, no Challenges section)",
                   "link opposing claims in challenged_by, or add a Challenges section saying "
                   "none are known", level=level)


def _has_evidence(claim: Claim, options: dict) -> bool:
    wanted = {s.lower() for s in options["evidence_sections"]}
    if claim.sections() & wanted:
        return True
    pattern = _compile(tuple(options["evidence_patterns"]))
    text = claim.body.replace(claim.title, " ") if claim.title_line else claim.body
    return bool(pattern.search(text))


def _hedges(claim: Claim, level: str, options: dict) -> Iterator[Finding]:
    words = _compile_words(tuple(options["hedge_words"]))
    for where, text, line in _own_text(claim, options):
        match = words.search(text)
        if not match:
            continue
        single = _single_source(claim.field_text("source"))
        rule = "hedged-proven-single-source" if single else "hedged-proven"
        why = " and its source names a single work" if single else ""
        yield make(ID, rule, claim.path, line,
                   f"a '{level}' claim hedges in its {where} (\"{match.group(0)}\"){why}",
                   "lower the confidence to 'likely' or 'experimental', or remove the hedge "
                   "if the evidence is conclusive", word=match.group(0).lower())
        return


def _own_text(claim: Claim, options: dict) -> Iterator[tuple[str, str, int]]:
    """The claim's own assertions: not quotations, not notes about other notes, and not its
    Challenges section, where "may" and "could" are how counter-evidence is stated."""
    yield "title", claim.title, claim.title_line or 1
    yield "description", claim.field_text("description"), claim.line_of("description")
    challenges = {s.lower() for s in options["challenge_sections"]}
    in_challenges = False
    for number, text in claim.body_lines():
        heading = HEADING.match(text)
        if heading:
            in_challenges = heading.group(1).strip().lower() in challenges
            continue
        if in_challenges or text.lstrip().startswith(("- [[", ">")):
            continue
        yield "body", text, number


def _single_source(source: str) -> bool:
    return bool(source) and not _SEPARATORS.search(source)


def _has_challenge(claim: Claim, options: dict) -> bool:
    if any(claim.fm.get(name) for name in options["challenge_fields"]):
        return True
    wanted = {s.lower() for s in options["challenge_sections"]}
    return any(section.split(":")[0].strip() in wanted or
               any(section.startswith(w) for w in wanted) for section in claim.sections())


@lru_cache(maxsize=32)
def _compile(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


@lru_cache(maxsize=32)
def _compile_words(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)
