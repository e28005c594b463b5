"""custom: the rubric's own rules, declared in its `custom:` section without Python.

What it checks
    Each rule of the rubric's `custom:` section, reported as `custom.<name>` at the
    rule's severity, in a seventh section of the review ("7. Custom rules") that appears
    only when the rubric declares custom rules. A rule is one of four kinds:

    existence: words or regular expressions that must not appear in the note's
    title, description or body (its `scope`). Words and phrases match whole, ignoring
    case; patterns match as written (case-sensitive; write (?i:...) where case does not
    matter). Every occurrence is a finding, on its line and column.

    substitution: the same, with a replacement for each word or pattern; the hint
    names it, and with `fix: true` `claim-review fix` and pull-request suggestions apply
    it (the replacement takes the capital of a capitalised match).

    required-section: one of the `sections` headings must be in the body (a heading is
    the name, or starts with it followed by a non-letter: "Challenges (2024)"; a bold
    label that opens a paragraph, "**Challenges:** ...", counts as a heading), unless a
    field of `or_fields` has a value. Reported on the confidence line when the rule has
    `levels`, else on the title.

    judge: a question the LLM judge answers for each claim, beside the six criteria;
    a failure is a `custom.<name>` finding (source "judge") at most at the rule's
    severity. Rubric tests and --no-llm runs do not ask it.

    `levels` limits a rule to notes whose confidence is one of them; `types` to notes
    of those document types (default: claims; the judge sees claims only). The title is
    the H1 line (or the file name when there is none); the description is its
    frontmatter lines; the body leaves out the title, fenced code and HTML comments.
    Patterns and words read at most the first 2,000 characters of a line and the first
    100,000 characters of a note's scope.

Why it matters
    Every knowledge base has conventions of its own: words its editors strike
    ("revolutionary", "obviously"), spellings it standardises, sections its claims must
    carry at some confidence levels, questions its reviewers ask of every claim. Written
    in the rubric, they are reviewed, explained, suppressed, baselined and tested like
    the built-in rules, and changed by editing YAML.

Options
    None of its own: each rule carries its settings in the rubric's `custom:` section
    (rubrics/default.yaml documents every key; docs/guide.md, "Write a custom check",
    shows one rule of each kind). Patterns are vetted when the rubric loads: they must
    compile, be at most 500 characters, not match the empty text, use no backreference,
    and have no nested or adjacent unbounded repeats over the same characters.

Failing example
    custom:
      hype:
        kind: existence
        description: Hype words overstate what the evidence shows.
        scope: [title]
        words: [revolutionary]

    # A revolutionary tariff design cut peak demand by a tenth

Passing example
    # A time-of-use tariff cut peak demand by a tenth in 4,000 homes
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from reviewer.claim import Claim, fenced
from reviewer.claim import heading as atx_heading
from reviewer.custom_rules import CustomRule, CustomRules, Entry, fill
from reviewer.findings import Finding, make
from reviewer.kb import ReviewContext
from reviewer.safe_regex import MAX_LINE

ID = "custom"
TITLE = "Custom rules"
DOC = __doc__
MAX_SCOPE = 100_000  # characters of a note's scope that a rule reads
MAX_QUOTE = 80  # characters of a match quoted in a message
_TOKEN = re.compile(r"\w+")


class CustomCheck:
    """A rubric's custom rules as a check: the contract of a check module
    (reviewer/checks/__init__.py), with rules that come from the rubric instead of code.
    `RULES` holds the rules the check raises; `CRITERIA` the judge's questions and the most
    each failure weighs."""

    ID = ID
    TITLE = TITLE
    DEFAULTS: dict[str, Any] = {}
    OWN_TYPES = True  # each rule says which document types it applies to

    def __init__(self, rules: CustomRules):
        self.__doc__ = DOC  # its documentation, as a check module's docstring is
        self.rules = rules
        self.RULES = {r.id: r.severity for r in rules.checked}
        self.CRITERIA = {r.id: r.severity for r in rules.criteria}
        self.RULE_DOCS = {r.id: r.description for r in rules.rules}

    def validate(self, claim: Claim, ctx: ReviewContext, options: dict) -> Iterator[Finding]:
        for rule in self.rules.checked:
            if rule.severity == "off" or not applies(rule, claim):
                continue
            if rule.kind == "required-section":
                yield from _missing_section(rule, claim)
            else:
                yield from _matches(rule, claim)

    def fix(self, finding: Finding, line: str, claim: Claim, ctx: ReviewContext,
            options: dict) -> str | None:
        """A substitution rule with `fix: true`: every match of the rule on the line, in
        the part of it the rule reads, replaced. Only on the line as the review read it:
        after another fix moved its text, nothing is certain any more."""
        rule = self.rules.get(finding.rule)
        if rule is None or rule.kind != "substitution" or not rule.fix:
            return None
        lines = claim.text.split("\n")
        if not 1 <= finding.line <= len(lines) or lines[finding.line - 1] != line:
            return None
        segment = next((s for s in _segments(rule, claim) if s[0] == finding.line), None)
        if segment is None or segment[2] is None:
            return None
        _number, text, start, _scope = segment
        changed = text
        for at, found, entry in reversed(_find(rule, text[:MAX_LINE])):
            new = _cased(entry.replacement or "", found)
            changed = changed[:at] + new + changed[at + len(found):]
        if changed == text:
            return None
        return line[:start] + changed + line[start + len(text):]

    def criteria_for(self, claim: Claim) -> list[CustomRule]:
        """The judge's custom questions that apply to this claim."""
        return [r for r in self.rules.criteria if r.severity != "off" and applies(r, claim)]


_BUILT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def for_rubric(rubric: Any) -> CustomCheck | None:
    """The rubric's custom check, or None when it declares no custom rule. Built once per
    rubric (a rubric never changes after loading)."""
    rules = getattr(rubric, "custom", None)
    if not rules:
        return None
    try:
        built = _BUILT.get(rubric)
        if built is None:
            built = _BUILT[rubric] = CustomCheck(rules)
        return built
    except TypeError:  # not weakly referable: build it each time
        return CustomCheck(rules)


def applies(rule: CustomRule, claim: Claim) -> bool:
    if not rule.judged and claim.kind not in rule.types:
        return False
    return not rule.levels or claim.fm.get("confidence") in rule.levels


# -- existence and substitution ------------------------------------------------------
def _matches(rule: CustomRule, claim: Claim) -> Iterator[Finding]:
    level = claim.fm.get("confidence")
    for number, text, start, scope in _scoped(rule, claim):
        for at, found, entry in _find(rule, text):
            replacement = _cased(entry.replacement or "", found)
            values = {"match": _quote(found), "scope": scope,
                      "level": level if isinstance(level, str) else "",
                      "replacement": replacement}
            if rule.kind == "substitution":
                default = "the {scope} says '{match}' where the rubric prefers '{replacement}'"
                hint = rule.hint or "write '{replacement}' instead of '{match}'"
            else:
                default, hint = "the {scope} says '{match}'", rule.hint
            extras: dict[str, Any] = {"match": found[:MAX_QUOTE]}
            if entry.replacement is not None:
                extras["suggestion"] = replacement
            yield make(ID, rule.name, claim.path, number, fill(rule.message or default, values),
                       fill(hint, values),
                       column=None if start is None else start + at + 1, **extras)


def _find(rule: CustomRule, text: str) -> list[tuple[int, str, Entry]]:
    """Non-overlapping matches of the rule's words and patterns in `text`, in order:
    (offset, matched text, entry). The earliest wins; of two at one offset, the longer."""
    found = []
    words = tuple(e for e in rule.entries if e.regex is None)
    if words:
        found += _word_matches(_word_index(words), text)
    for entry in rule.entries:
        if entry.regex is not None:
            found += [(m.start(), m.group(0), entry) for m in entry.regex.finditer(text)
                      if m.group(0)]
    found.sort(key=lambda f: (f[0], -len(f[1])))
    kept, end = [], 0
    for at, text_found, entry in found:
        if at >= end:
            kept.append((at, text_found, entry))
            end = at + len(text_found)
    return kept


@lru_cache(maxsize=256)
def _word_index(words: tuple[Entry, ...]) -> dict[str, list[tuple[tuple[str, ...],
                                                                    tuple[str, ...], Entry]]]:
    """First word (case-folded) -> the phrases that start with it: (their words, the
    separators between them with white space as one space, the entry), longest first."""
    index: dict[str, list] = {}
    for entry in words:
        tokens, separators = _tokens(entry.text)
        index.setdefault(tokens[0], []).append((tokens, separators, entry))
    for phrases in index.values():
        phrases.sort(key=lambda p: -len(p[0]))
    return index


def _tokens(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    found = list(_TOKEN.finditer(text))
    words = tuple(m.group(0).casefold() for m in found)
    separators = tuple(_space(text[a.end():b.start()])
                       for a, b in zip(found, found[1:], strict=False))
    return words, separators


def _space(text: str) -> str:
    return " ".join(text.split()) if text.strip() else " " if text else ""


def _word_matches(index: dict, text: str) -> list[tuple[int, str, Entry]]:
    """Whole words and phrases, ignoring case, in one pass over the words of `text`: the
    work grows with the length of the text, never with backtracking."""
    tokens = list(_TOKEN.finditer(text))
    folded = [t.group(0).casefold() for t in tokens]
    found = []
    for i, word in enumerate(folded):
        for phrase, separators, entry in index.get(word, ()):
            last = i + len(phrase) - 1
            if last >= len(tokens) or tuple(folded[i:last + 1]) != phrase:
                continue
            between = tuple(_space(text[tokens[j].end():tokens[j + 1].start()])
                            for j in range(i, last))
            if between == separators:
                start, end = tokens[i].start(), tokens[last].end()
                found.append((start, text[start:end], entry))
                break
    return found


def _cased(replacement: str, found: str) -> str:
    """A capitalised match gets a capitalised replacement ("Utilize" -> "Use")."""
    if found[:1].isupper() and replacement[:1].islower():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_QUOTE else text[:MAX_QUOTE - 1] + "…"


# -- where a rule reads ----------------------------------------------------------------
Segment = tuple[int, str, "int | None", str]  # line, text, its offset in the line, scope


def _scoped(rule: CustomRule, claim: Claim) -> Iterator[Segment]:
    """Each piece of text the rule reads, at most MAX_LINE characters, MAX_SCOPE in all."""
    budget = MAX_SCOPE
    for number, text, start, scope in _segments(rule, claim):
        if budget <= 0:
            return
        text = text[:min(MAX_LINE, budget)]
        budget -= len(text)
        yield number, text, start, scope


def _segments(rule: CustomRule, claim: Claim) -> Iterator[Segment]:
    lines = claim.text.split("\n")
    if "title" in rule.scope:
        yield from _title(claim, lines)
    if "description" in rule.scope:
        yield from _description(claim, lines)
    if "body" in rule.scope:
        yield from _body(claim)


def _title(claim: Claim, lines: list[str]) -> Iterator[Segment]:
    if claim.title_line is None:  # the file name is the title: no line of the note holds it
        if claim.title:
            yield 1, claim.title, None, "title"
        return
    line = lines[claim.title_line - 1]
    start = line.find(claim.title)
    if start >= 0:
        yield claim.title_line, claim.title, start, "title"


def _description(claim: Claim, lines: list[str]) -> Iterator[Segment]:
    """The lines of the `description` field in the frontmatter, after its key."""
    first = claim.key_lines.get("description")
    if first is None or not isinstance(claim.fm.get("description"), str):
        return
    later = [n for n in claim.key_lines.values() if n > first]
    end = min([*later, claim.body_line - 1])
    for number in range(first, min(end, len(lines) + 1)):
        line = lines[number - 1]
        start = line.find(":") + 1 if number == first else 0
        if line[start:].strip():
            yield number, line[start:], start, "description"


def _body(claim: Claim) -> Iterator[Segment]:
    """Body lines without the title, fenced code and HTML comments (blanked, so columns
    stay true)."""
    lines = claim.body_lines()
    in_comment = False
    for (number, text), code in zip(lines, fenced(t for _n, t in lines), strict=True):
        if code or number == claim.title_line:
            continue
        visible, in_comment = _uncomment(text, in_comment)
        if visible.strip():
            yield number, visible, 0, "body"


def _uncomment(line: str, in_comment: bool) -> tuple[str, bool]:
    """The line with HTML comments blanked, and whether a comment is still open after it."""
    out, at = [], 0
    while at < len(line):
        if in_comment:
            end = line.find("-->", at)
            stop = len(line) if end < 0 else end + 3
            out.append(" " * (stop - at))
            at, in_comment = stop, end < 0
        else:
            begin = line.find("<!--", at)
            if begin < 0:
                out.append(line[at:])
                break
            out.append(line[at:begin])
            at, in_comment = begin, True
    return "".join(out), in_comment


# -- required sections -----------------------------------------------------------------
def _missing_section(rule: CustomRule, claim: Claim) -> Iterator[Finding]:
    if any(_has_value(claim.fm.get(name)) for name in rule.or_fields):
        return
    if any(_names_section(heading, rule.sections) for heading in _headings(claim)):
        return
    level = claim.fm.get("confidence")
    level = level if isinstance(level, str) else ""
    sections = _either([f"'{s}'" for s in rule.sections])
    fields = _either(list(rule.or_fields))
    values = {"level": level, "sections": sections, "fields": fields}
    default = ("a '{level}' note has " if level and rule.levels else "the note has ") + \
        "no {sections} section" + (" and no value in {fields}" if fields else "")
    hint = rule.hint or ("add a {sections} section" + (" or fill {fields}" if fields else ""))
    line = claim.line_of("confidence") if rule.levels else (claim.title_line or 1)
    extras = {"level": level} if level else {}
    yield make(ID, rule.name, claim.path, line, fill(rule.message or default, values),
               fill(hint, values), **extras)


def _either(names: list[str]) -> str:
    """'A', 'B' or 'C'; past three, the first two and how many more."""
    if len(names) > 3:
        return f"{', '.join(names[:2])} or {len(names) - 2} others"
    return " or ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else \
        "".join(names)


def _headings(claim: Claim) -> Iterator[str]:
    """The body's headings, lower-cased, and the bold labels that open a paragraph
    ("**Counter-argument (Reese, 2025):** ..."), which many notes write as sub-headings."""
    lines = claim.body_lines()
    for (number, text), code in zip(lines, fenced(t for _n, t in lines), strict=True):
        if code or number == claim.title_line:
            continue
        found = atx_heading(text)
        label = found[1] if found is not None else _bold_label(text)
        if label:
            yield " ".join(label.lower().split())


def _bold_label(line: str) -> str:
    """The text of a bold label that opens the line, or "" (plain scanning, no pattern)."""
    line = line.strip()
    if not line.startswith(("**", "__")):
        return ""
    end = line.find(line[:2], 2)
    return line[2:end].strip() if end > 2 else ""


def _names_section(heading: str, sections: tuple[str, ...]) -> bool:
    """The heading is one of the names, or starts with one followed by a non-letter
    ("Challenges (2024)", "Counter-evidence: cost"), ignoring case and emphasis."""
    heading = heading.strip("*_ ")
    for name in (s.lower() for s in sections):
        if heading == name or (heading.startswith(name) and not heading[len(name)].isalnum()):
            return True
    return False


def _has_value(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (list, tuple)):
        return any(_has_value(v) for v in value)
    return value is not None and value is not False and value != {}


# -- documentation -----------------------------------------------------------------------
KIND_DOCS = {
    "existence": "words or patterns that must not appear",
    "substitution": "words or patterns with a preferred replacement",
    "required-section": "a heading the note must have",
    "judge": "a question the LLM judge answers for each claim",
}


def describe(rule: CustomRule) -> list[str]:
    """What `claim-review explain custom.<name>` prints after the rule's description: its
    settings as the rubric declares them."""
    where = f"at confidence {', '.join(rule.levels)}" if rule.levels else "at any confidence"
    whom = "claims" if rule.judged else ", ".join(
        "claims" if t == "claim" else f"notes of type {t}" for t in rule.types)
    lines = [f"kind: {rule.kind} ({KIND_DOCS[rule.kind]})", f"applies to: {whom}, {where}"]
    if rule.kind in ("existence", "substitution"):
        lines.append(f"scope: {', '.join(rule.scope)}")
        for label, regex in (("words (whole, ignoring case)", False), ("patterns", True)):
            found = [e for e in rule.entries if (e.regex is not None) == regex]
            if found:
                lines.append(f"{label}: " + ", ".join(
                    e.text if e.replacement is None else f"{e.text} -> {e.replacement}"
                    for e in found))
        if rule.kind == "substitution":
            lines.append("fix: " + ("certain: claim-review fix and pull-request suggestions "
                                    "apply the replacement" if rule.fix else
                                    "none (the hint names the replacement)"))
    elif rule.kind == "required-section":
        lines.append("sections (any one): " + ", ".join(rule.sections))
        if rule.or_fields:
            lines.append("or a value in: " + ", ".join(rule.or_fields))
    else:
        lines += ["question: " + rule.question]
        lines += [f"fails, for example: {text}" for text in rule.fail_examples]
        lines += [f"passes, for example: {text}" for text in rule.pass_examples]
    lines += [f"{name}: {text}" for name, text in (("message", rule.message),
                                                    ("hint", rule.hint)) if text]
    return lines
