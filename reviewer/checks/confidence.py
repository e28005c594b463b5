"""confidence: the confidence level matches the evidence the claim shows.

What it checks
    A claim rated at an evidence level (`proven`, `likely` by default) must
    show evidence in its body: an Evidence section with content, or text
    matching one of the rubric's evidence patterns (figures, years, citations,
    DOIs, URLs) outside HTML comments. An evidence section (a heading named in
    `evidence_sections`, running to the next heading of its level or higher)
    that holds nothing but blank lines, sub-headings, HTML comments,
    punctuation ("...", "-") and `evidence_placeholders` ("TODO", "TBD",
    "n/a", "coming soon", or a line starting "TODO:") is empty: it is not
    evidence, and it is reported on its heading (empty-evidence).

    A claim rated at a `concrete_levels` level (`proven`) must show concrete
    evidence in its argument: a match of `concrete_evidence_patterns`
    (figures, statistics, amounts, a citation with a year or "et al.", a
    quotation, a named study, dataset or law, a URL or a DOI) in the body
    outside its H1 title, its Challenges sections, HTML comments and the text
    of its wiki links. Wiki links alone are not enough: the notes they point
    at may be anything. For these levels proven-without-evidence replaces
    missing-evidence, so a `proven` claim gets one finding, not two; and when
    an evidence section is empty, empty-evidence is the one finding (its
    message says when the rest of the body has no evidence either).

    A `proven` claim whose own title, description or body (outside quotations
    and its Challenges section) hedges ("may", "suggests", "preliminary" ...)
    is flagged: a warning, an error when its source names a single work. A
    `likely` or `proven` claim that names no challenge (`challenged_by` or a
    Challenges section) gets an info note.

Why it matters
    Confidence is what readers and agents weigh claims by. A `proven` claim that
    says "may", or that shows no figure, source or study, is not proven; an
    unevidenced `likely` is a guess; an Evidence heading over "TODO" looks like
    evidence to anyone who does not open it.

Options
    evidence_levels, evidence_sections, evidence_patterns (regular expressions),
    evidence_placeholders, concrete_levels, concrete_evidence_patterns (regular
    expressions, case-sensitive; use (?i:...) where case does not matter),
    hedge_levels, hedge_words, counter_levels, challenge_fields, challenge_sections.
    Patterns run on untrusted text: keep them linear-time (no nested or
    adjacent unbounded repeats over the same characters).

Failing example
    confidence: proven
    source: "Lee 2025 pilot study"
    # Nightly bus service may reduce drunk-driving crashes

    confidence: likely
    ## Evidence
    TODO

    confidence: proven
    # Night buses reduce drunk driving
    Since [[Night buses run in 2024 trials]], fewer people drive home drunk.

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

from reviewer.claim import LINK, Claim, fenced
from reviewer.claim import heading as atx_heading
from reviewer.findings import ERROR, INFO, WARNING, Finding, make
from reviewer.kb import ReviewContext

ID = "confidence"
TITLE = "Confidence"
RULES = {
    "confidence.missing-evidence": ERROR,
    "confidence.empty-evidence": ERROR,
    "confidence.proven-without-evidence": ERROR,
    "confidence.hedged-proven": WARNING,
    "confidence.hedged-proven-single-source": ERROR,
    "confidence.no-counter-evidence": INFO,
}
RULE_DOCS = {
    "confidence.missing-evidence": (
        "Flags a claim rated at one of the 'evidence_levels' (proven, likely) whose body, "
        "with its H1 title and HTML comments left out, has neither a heading named in "
        "'evidence_sections' with content under it nor any match of the 'evidence_patterns' "
        "(percentages, years, 'et al.', DOIs, URLs, "
        "amounts, counts, long quotations, words such as study or trial). The title and "
        "description do not count: they state the claim, they do not support it. An "
        "unevidenced high-confidence claim is a guess that readers and agents will weigh as "
        "knowledge. Example: 'confidence: likely' over a body that only explains the "
        "mechanism in general terms."),
    "confidence.empty-evidence": (
        "Flags, for a claim rated at one of the 'evidence_levels' (proven, likely), a section "
        "whose heading is named in 'evidence_sections' (Evidence, Data ...) and that holds "
        "nothing but blank lines, sub-headings, HTML comments, punctuation ('...', '-') and "
        "'evidence_placeholders' ('TODO', 'TBD', 'n/a', 'coming soon', or a line starting "
        "'TODO:'). The section runs to the next heading of its level or higher. An empty "
        "heading looks like evidence to anyone who does not open the note, and it no longer "
        "counts as evidence for missing-evidence; it is reported on its heading instead of "
        "missing-evidence or proven-without-evidence, saying when the rest of the body has "
        "none either. Example: 'confidence: likely' with '## Evidence' followed only by "
        "'- TODO' and '<!-- add the 2024 audit -->'."),
    "confidence.proven-without-evidence": (
        "Flags a claim rated at one of the 'concrete_levels' (proven) whose argument has no "
        "concrete evidence marker from 'concrete_evidence_patterns': a figure (14%, 0.53, "
        "1,200, 40 corridors, $3M, p<0.05), a citation (et al., an author and year, a year in "
        "brackets, a quotation of 40 characters or more), a named study, dataset or law "
        "('a 2024 trial', 'IAB 2026 data', \"Ashby's Law\"), a URL or a DOI. The argument is "
        "the body without its H1 title, its Challenges sections (counter-evidence is not "
        "support), HTML comments and the text inside its [[wiki links]], which names other "
        "notes, not evidence. For these levels it replaces missing-evidence, so a proven claim is "
        "reported once. Example: a 'proven' claim whose body reasons from '[[Night buses "
        "cut crashes in 2024 trials]]' but names no figure or study itself."),
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
        r"(?<![\d.])\d+(?:\.\d+)?\s?(?:%|percent|x\b|×|fold)",
        r"\b(19|20)\d\d\b",
        r"\bet al\.?",
        r"\bdoi:|10\.\d{4,}/",
        r"https?://",
        r"\$\s?\d",
        r"(?<![\d,.])\d\d[\d,.]*\s+[a-z]",
        r'[“"][^“”"\n]{40,}[”"]',
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
    "evidence_placeholders": ["todo", "to do", "tbd", "tba", "tbc", "fixme", "xxx",
                              "placeholder", "coming soon", "to come", "to be added",
                              "to be completed", "n/a", "na", "none", "none yet", "nothing yet",
                              "pending"],
    "concrete_levels": ["proven"],
    "concrete_evidence_patterns": [
        # figures: shares, multiples, decimals, thousands, counts, amounts, statistics
        r"(?<![\d.,])\d+(?:[.,]\d+)*\s?(?:%|(?i:percent|per\s?cent|percentage\s+points?|pp)\b|"
        r"[x×](?![A-Za-z])|-?(?i:fold)\b)",
        r"(?<![\d.,])\d+[.,]\d+",
        r"\b(?!(?:1[5-9]|20)\d\d\b)\d{2,}(?:[,.]\d+)*\+?\s[A-Za-z]",
        r"[$€£¥]\s?\d|(?<![\d.,])\d+(?:[.,]\d+)*\s?(?i:million|billion|trillion|bn)\b",
        r"\b(?:[pnNrR]|OR|RR|HR)\s?[<=>≤≥]\s?-?\.?\d|[βρσχ]²?\s?[=<>≈]\s?-?\.?\d",
        # citations: et al., author and year, a year in brackets, a long quotation
        r"\bet al\b",
        r"\b(?!(?:In|On|By|Since|From|Until|Before|After|During|Through|Between|Around|Circa|"
        r"The|A|An|And|Or|Of|For|At|To|As|Early|Late|Mid|Spring|Summer|Autumn|Fall|Winter|"
        r"January|February|March|April|May|June|July|August|September|October|November|"
        r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Q[1-4]|H[12]|FY)\b)"
        r"[A-Z][A-Za-z'’-]+(?:\s(?:and|&)\s[A-Z][A-Za-z'’-]+)?,?\s\(?(?:1[5-9]|20)\d\d[a-z]?\b",
        r"\((?:[^()\n]{0,80}?[\s,])?(?:1[5-9]|20)\d\d[a-z]?\)",
        r'[“"][^”"\n]{40,}[”"]',
        # links to the work: a DOI or a URL
        r"\b(?i:doi):|\b10\.\d{4,}/|\b(?i:https?)://",
        # a study, dataset or law named: after a year ("a 2024 trial", "the 2023 Okafor
        # survey"), after a possessive ("Hanson's study", "Ashby's Law"), or after a name when
        # the word can only be a noun there ("IAB data", "the Framingham Heart Study"; not
        # "Operators report" or "Planners study", where it is a verb)
        r"\b(?:1[5-9]|20)\d\d\s(?:[A-Z][\w'’&.-]*\s){0,2}(?i:stud(?:y|ies)|trials?|rcts?|"
        r"surveys?|experiments?|meta-analys[ie]s|data(?:set)?s?|census|audits?|cohorts?|"
        r"reports?|pilots?|polls?|statistics)\b",
        r"\b[A-Z][\w-]*['’]s\s(?:[\w-]+\s){0,2}(?i:stud(?:y|ies)|trials?|rcts?|surveys?|"
        r"experiments?|meta-analys[ie]s|data(?:set)?s?|census|audits?|cohorts?|reports?|"
        r"pilots?|polls?|statistics|laws?|theorems?)\b",
        r"\b(?!(?:The|This|That|These|Those|A|An|One|Our|Their|Its|His|Her|Each|Every|"
        r"Another|Such|Any|No|Some|Many|Most|Several|Recent|Early|Earlier|Later|New|Previous|"
        r"Prior|Other|Further|Subsequent|Similar|If|When|While|But|And|Yet|So|In|On|At|By|"
        r"For|From|Of|With|As|It|We|They|Study|Studies|Survey|Surveys|Report|Reports|Trial|"
        r"Trials|Data|Census|Law|Theorem)\b)[A-Z][\w'’&.-]*\s(?:[A-Z][\w'’&.-]*\s){0,2}"
        r"(?:(?i:trials?|rcts?|meta-analys[ie]s|data(?:set)?s?|census|cohorts?|statistics|"
        r"laws?|theorems?)|Study|Studies|Survey|Surveys|Report|Reports|Poll|Audit|Experiment|"
        r"Review|Index)\b",
        r"\b(?i:stud(?:y|ies)|trials?|surveys?|reports?|papers?|analys[ie]s|experiments?|"
        r"data(?:set)?s?)\s(?:by|from)\s(?:the\s)?[A-Z]",
    ],
}

_SEPARATORS = re.compile(r";|\n|\s\+\s|\band\b|&|,\s*(?=[A-Z\[])")


def vet_options(options: dict) -> str | None:
    for key in ("evidence_patterns", "concrete_evidence_patterns"):
        for pattern in options[key]:
            try:
                re.compile(pattern)
            except re.error as exc:
                return (f"'checks.confidence.{key}' entry {pattern!r} is not a valid "
                        f"regular expression ({exc})")
    return None


def validate(claim: Claim, ctx: ReviewContext, options: dict) -> Iterator[Finding]:
    level = claim.fm.get("confidence")
    if not isinstance(level, str):
        return
    line = claim.line_of("confidence")
    # An empty Evidence section is where the evidence is missing: one finding there, not a
    # second one on the confidence line. proven-without-evidence replaces missing-evidence
    # for the concrete levels.
    empty = _empty_sections(claim, level, options)
    yield from empty
    if not empty and level in options["concrete_levels"]:
        if not _has_concrete(claim, options):
            yield make(ID, "proven-without-evidence", claim.path, line,
                       f"a '{level}' claim shows no concrete evidence in its argument (no "
                       "figures, citation, named study or dataset, URL or DOI outside its "
                       "wiki links and Challenges)",
                       "cite the study, data or source that establishes it (figures, author "
                       "and year, a link), or lower the confidence to 'likely'", level=level)
    elif not empty and level in options["evidence_levels"] and not _has_evidence(claim,
                                                                                 options):
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
    """An Evidence section with content, or an evidence pattern anywhere in the body. An
    empty or placeholder-only section is no evidence (it is reported as empty-evidence)."""
    if any(not empty for _line, _name, empty in _evidence_sections(claim, options)):
        return True
    pattern = _compile(tuple(options["evidence_patterns"]))
    text = claim.body.replace(claim.title, " ") if claim.title_line else claim.body
    return bool(pattern.search(_uncomment(text)))  # a hidden comment shows no one anything


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
        found = atx_heading(text)
        if found is not None:
            in_challenges = found[1].lower() in challenges
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


# -- sections ------------------------------------------------------------------------------
# An ATX heading: 1-6 '#' then a space or the end of the line. The text is trimmed in Python:
# a pattern with adjacent optional spaces and '#'s backtracks badly on long lines.
_MARKER = re.compile(r"(?:[-*+>]|\d{1,9}[.)])(?=[ \t]|$)")


def _heading(text: str) -> tuple[int, str] | None:
    """(level, lower-cased text) of an ATX heading line, else None."""
    found = atx_heading(text)
    return (found[0], found[1].lower()) if found else None


def _outline(claim: Claim) -> Iterator[tuple[int, str, tuple[int, str] | None, list[str]]]:
    """(line number, text, the heading on this line or None, the names of the headings it
    sits under, outermost first), for each body line; fenced code holds no headings."""
    stack: list[tuple[int, str]] = []
    lines = claim.body_lines()
    for (number, text), code in zip(lines, fenced(t for _n, t in lines), strict=True):
        heading = None if code else _heading(text)
        if heading:
            while stack and stack[-1][0] >= heading[0]:
                stack.pop()
        yield number, text, heading, [name for _level, name in stack]
        if heading and number != claim.title_line:  # the title is the claim, not a section
            stack.append(heading)


def _evidence_sections(claim: Claim, options: dict) -> list[tuple[int, str, bool]]:
    """(heading line, name, empty) of each section named in `evidence_sections`. A section
    runs to the next heading of its level or higher; it is empty when nothing in it but
    blank lines, sub-headings, HTML comments and placeholders remains."""
    wanted = {s.lower() for s in options["evidence_sections"]}
    placeholders = {_bare(p) for p in options["evidence_placeholders"]}
    found: list[tuple[int, str, bool]] = []
    current: tuple[int, int, str] | None = None  # (line, level, name)
    content: list[str] = []
    for number, text, heading, _under in _outline(claim):
        if heading and current and heading[0] <= current[1]:
            found.append((current[0], current[2], _placeholder_only(content, placeholders)))
            current = None
        if heading and current is None and heading[1] in wanted:
            current, content = (number, heading[0], heading[1]), []
        elif current and not heading:
            content.append(text)
    if current:
        found.append((current[0], current[2], _placeholder_only(content, placeholders)))
    return found


def _placeholder_only(lines: list[str], placeholders: set[str]) -> bool:
    for text in _uncomment("\n".join(lines)).split("\n"):
        core = text.strip()
        for _ in range(4):  # "- > TODO": list and quote markers, a few levels deep
            marker = _MARKER.match(core)
            if not marker:
                break
            core = core[marker.end():].strip()
        bare = _bare(core)
        if not bare or bare in placeholders:
            continue
        if any(bare.startswith(p + ":") for p in placeholders if p):
            continue  # "TODO: add the 2024 trial"
        return False
    return True


def _bare(text: str) -> str:
    """Lower-cased, without surrounding punctuation and emphasis; "" for punctuation only
    ('...', '-', '---', '* * *')."""
    text = text.strip().lower()
    if not any(c.isalnum() for c in text):
        return ""
    return text.strip(" \t*_`~[](){}<>.,;!?\"'“”‘’")


def _uncomment(text: str) -> str:
    """Text without HTML comments; an unclosed comment runs to the end, as in Markdown."""
    parts, start = [], 0
    while True:
        opened = text.find("<!--", start)
        if opened < 0:
            parts.append(text[start:])
            return "".join(parts)
        parts.append(text[start:opened])
        closed = text.find("-->", opened + 4)
        if closed < 0:
            return "".join(parts)
        parts.append("\n" * text.count("\n", opened, closed))
        start = closed + 3


def _empty_sections(claim: Claim, level: str, options: dict) -> list[Finding]:
    if level not in options["evidence_levels"]:
        return []
    findings = []
    for number, name, empty in _evidence_sections(claim, options):
        if not empty:
            continue
        if level in options["concrete_levels"] and not _has_concrete(claim, options):
            elsewhere = "; nothing else in the argument is concrete evidence either"
        elif level not in options["concrete_levels"] and not _has_evidence(claim, options):
            elsewhere = "; the body cites no evidence elsewhere either"
        else:
            elsewhere = ""
        findings.append(make(
            ID, "empty-evidence", claim.path, number,
            f"the '{name}' section of a '{level}' claim is empty or holds only placeholders"
            f"{elsewhere}",
            "fill it with the evidence (figures, the study or dataset, a citation or link), "
            "or remove the heading and lower the confidence", level=level, section=name))
    return findings


# -- concrete evidence ---------------------------------------------------------------------
def _has_concrete(claim: Claim, options: dict) -> bool:
    """A concrete evidence marker in the argument: the body without its H1 title, its
    Challenges sections (counter-evidence is not support), HTML comments and the text of its
    wiki links."""
    challenges = {s.lower() for s in options["challenge_sections"]}
    kept = []
    for number, text, heading, under in _outline(claim):
        if number == claim.title_line:
            continue
        names = under + [heading[1]] if heading else under
        if any(_is_challenge(name, challenges) for name in names):
            continue
        kept.append(text)
    text = LINK.sub(" ", _uncomment("\n".join(kept)))
    return bool(_compile_exact(tuple(options["concrete_evidence_patterns"])).search(text))


def _is_challenge(name: str, challenges: set[str]) -> bool:
    return name.split(":")[0].strip() in challenges or any(name.startswith(c)
                                                          for c in challenges)


@lru_cache(maxsize=32)
def _compile_exact(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """Case-sensitive: a capital tells a named study from 'the study'; patterns use (?i:...)
    where case does not matter."""
    return re.compile("|".join(f"(?:{p})" for p in patterns))
