"""The rubric's `custom:` section: checks a rubric declares without Python, typed once.

    custom:
      hype:                          # the rule custom.hype
        kind: existence              # existence | substitution | required-section | judge
        description: ...             # what it flags and why: `claim-review explain custom.hype`
        severity: warning            # error | warning | info | off (judge: the most it weighs)
        levels: [likely, proven]     # only notes at these confidence levels (default: any)
        types: [claim]               # only notes of these types (default: claims)
        scope: [title, description]  # existence, substitution: where (default: all three)
        words: [revolutionary]       # whole words; substitution: {word: replacement}
        patterns: ['\\bgame[- ]chang'] # regular expressions; substitution: {pattern: replacement}
        message: "..."               # the finding's message, with {match}, {scope} ...
        hint: "..."                  # how to fix it
        fix: true                    # substitution: a certain fix (`fix`, pr suggestions)
        sections: [challenges]       # required-section: any one of these headings ...
        or_fields: [challenged_by]   # ... or a non-empty one of these fields
        question: "..."              # judge: what the LLM judge is asked
        examples: {fail: [...], pass: [...]}

`rubrics/default.yaml` documents each key and docs/guide.md shows an example of each kind.
The rules are checked here, when the rubric loads: names, kinds, keys per kind, levels and
types the rubric knows, placeholders, sizes, and every regular expression (compiled and
vetted for linear-time matching by `safe_regex`). The matching itself is the `custom`
check's (reviewer/checks/custom.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from reviewer.safe_regex import MAX_PATTERN, UnsafePattern, vet
from reviewer.settings import LEVELS, RubricError, choice

KINDS = ("existence", "substitution", "required-section", "judge")
SCOPES = ("title", "description", "body")
NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
MAX_NAME = 60
MAX_RULES = 100  # custom rules in one rubric
MAX_ENTRIES = 200  # words and patterns of one rule
MAX_WORD = 100  # characters of a word or phrase
MAX_TEXT = 2000  # characters of a description, question or example
MAX_EXAMPLES = 5  # examples of each kind (fail, pass) for a judge criterion
COMMON = {"kind", "description", "severity", "levels"}
KEYS = {
    "existence": COMMON | {"types", "scope", "words", "patterns", "message", "hint"},
    "substitution": COMMON | {"types", "scope", "words", "patterns", "message", "hint", "fix"},
    "required-section": COMMON | {"types", "sections", "or_fields", "message", "hint"},
    "judge": COMMON | {"question", "examples"},
}
PLACEHOLDERS = {
    "existence": ("match", "scope", "level"),
    "substitution": ("match", "replacement", "scope", "level"),
    "required-section": ("level", "sections", "fields"),
}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_]+)\}")


@dataclass(frozen=True)
class Entry:
    """A word (matched whole, case-insensitively) or a vetted regular expression, and its
    replacement for a substitution rule."""

    text: str
    regex: re.Pattern[str] | None  # None: a word or phrase
    replacement: str | None = None


@dataclass(frozen=True)
class CustomRule:
    name: str
    kind: str
    description: str
    severity: str
    levels: tuple[str, ...] = ()  # empty: any level, and notes without one
    types: tuple[str, ...] = ("claim",)  # "claim" or declared document types
    scope: tuple[str, ...] = SCOPES
    entries: tuple[Entry, ...] = ()
    message: str = ""
    hint: str = ""
    fix: bool = False
    sections: tuple[str, ...] = ()  # heading names as written; matched ignoring case
    or_fields: tuple[str, ...] = ()
    question: str = ""
    fail_examples: tuple[str, ...] = ()
    pass_examples: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"custom.{self.name}"

    @property
    def judged(self) -> bool:
        return self.kind == "judge"


@dataclass(frozen=True)
class CustomRules:
    """Every custom rule of a rubric, in the order the rubric gives them."""

    rules: tuple[CustomRule, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.rules)

    def get(self, rule_id: str) -> CustomRule | None:
        """A rule by its id (custom.<name>)."""
        return next((r for r in self.rules if r.id == rule_id), None)

    @property
    def checked(self) -> tuple[CustomRule, ...]:
        """The rules the deterministic check runs (every kind but judge)."""
        return tuple(r for r in self.rules if not r.judged)

    @property
    def criteria(self) -> tuple[CustomRule, ...]:
        """The questions for the LLM judge."""
        return tuple(r for r in self.rules if r.judged)

    @classmethod
    def from_data(cls, data: Any, where: str, levels: tuple[str, ...],
                  types: dict[str, str], taken: set[str]) -> CustomRules:
        """`levels`: the rubric's confidence levels; `types`: document type names as
        written -> as notes carry them ("claim" for the claim type); `taken`: names that
        already mean something (checks, short names of built-in rules)."""
        if not isinstance(data, dict):
            raise RubricError(f"{where}: 'custom' must be a mapping of rule names to rules")
        if len(data) > MAX_RULES:
            raise RubricError(f"{where}: 'custom' declares {len(data)} rules; at most "
                              f"{MAX_RULES}")
        rules = []
        for name, spec in data.items():
            _check_name(name, where, taken)
            rules.append(_rule(str(name), spec, where, levels, types))
        return cls(tuple(rules))


def _check_name(name: Any, where: str, taken: set[str]) -> None:
    if not isinstance(name, str) or len(name) > MAX_NAME or not NAME.fullmatch(name):
        raise RubricError(f"{where}: custom rule name {name!r} must be lowercase letters and "
                          f"digits in words joined by '-' (at most {MAX_NAME} characters), "
                          "e.g. hype-words")
    if name in taken:
        raise RubricError(f"{where}: custom rule name 'custom.{name}' is taken: '{name}' "
                          "already names a check or a built-in rule; choose another name")


def _rule(name: str, spec: Any, where: str, levels: tuple[str, ...],
          types: dict[str, str]) -> CustomRule:
    key = f"custom.{name}"
    if not isinstance(spec, dict):
        raise RubricError(f"{where}: '{key}' must be a mapping with kind, description ...")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise RubricError(f"{where}: '{key}.kind' must be one of {', '.join(KINDS)} "
                          f"(got {kind!r})")
    unknown = sorted(map(str, set(spec) - KEYS[kind]))
    if unknown:
        raise RubricError(f"{where}: unknown key '{key}.{unknown[0]}' for a {kind} rule "
                          f"(known: {', '.join(sorted(KEYS[kind]))})")
    description = _text(spec.get("description"), where, f"{key}.description", MAX_TEXT)
    if not description:
        raise RubricError(f"{where}: '{key}.description' is required: say what the rule "
                          "flags and why (claim-review explain prints it)")
    values: dict[str, Any] = {
        "name": name, "kind": kind, "description": description,
        "severity": choice(where, f"{key}.severity", spec.get("severity", "warning"), LEVELS),
        "levels": _names(spec.get("levels"), where, f"{key}.levels", levels,
                         "confidence levels of the rubric's schema.confidence"),
    }
    if kind != "judge":
        known = list(types)
        chosen = _names(spec.get("types", [known[0]]), where, f"{key}.types", tuple(known),
                        "the claim type and the rubric's declared types")
        if not chosen:
            raise RubricError(f"{where}: '{key}.types' must name at least one type")
        values["types"] = tuple(dict.fromkeys(types[t] for t in chosen))
        values["message"] = _template(spec.get("message"), where, f"{key}.message", kind)
        values["hint"] = _template(spec.get("hint"), where, f"{key}.hint", kind)
    if kind in ("existence", "substitution"):
        values.update(_pattern_rule(spec, where, key, kind))
    elif kind == "required-section":
        values.update(_section_rule(spec, where, key))
    else:
        values.update(_judge_rule(spec, where, key))
    return CustomRule(**values)


def _pattern_rule(spec: dict, where: str, key: str, kind: str) -> dict[str, Any]:
    scope = _names(spec.get("scope", list(SCOPES)), where, f"{key}.scope", SCOPES,
                   "scopes")
    if not scope:
        raise RubricError(f"{where}: '{key}.scope' must name at least one of "
                          f"{', '.join(SCOPES)}")
    swap = kind == "substitution"
    entries = [*_entries(spec.get("words"), where, f"{key}.words", swap, word=True),
               *_entries(spec.get("patterns"), where, f"{key}.patterns", swap, word=False)]
    if not entries:
        raise RubricError(f"{where}: '{key}' needs 'words' or 'patterns' to look for")
    if len(entries) > MAX_ENTRIES:
        raise RubricError(f"{where}: '{key}' has {len(entries)} words and patterns; at most "
                          f"{MAX_ENTRIES}")
    fix = spec.get("fix", False)
    if not isinstance(fix, bool):
        raise RubricError(f"{where}: '{key}.fix' must be true or false (got {fix!r})")
    hint = spec.get("hint")
    if swap and isinstance(hint, str) and "{replacement}" not in hint:
        raise RubricError(f"{where}: '{key}.hint' must name the replacement: use "
                          "{replacement} in it, or leave the hint out")
    return {"scope": tuple(dict.fromkeys(scope)), "entries": tuple(entries), "fix": fix}


def _entries(value: Any, where: str, key: str, swap: bool, word: bool) -> list[Entry]:
    if value is None:
        return []
    if swap:
        if not isinstance(value, dict) or not value:
            raise RubricError(f"{where}: '{key}' must map each "
                              f"{'word' if word else 'pattern'} to its replacement")
        pairs = list(value.items())
    else:
        if not isinstance(value, list) or not value:
            raise RubricError(f"{where}: '{key}' must be a list of "
                              f"{'words' if word else 'regular expressions'}")
        pairs = [(item, None) for item in value]
    entries = []
    for text, replacement in pairs:
        if swap and (not isinstance(replacement, str) or not replacement.strip()
                     or "\n" in replacement or len(replacement) > MAX_WORD):
            raise RubricError(f"{where}: '{key}' replacement for {text!r} must be text of one "
                              f"line, at most {MAX_WORD} characters (got {replacement!r})")
        entries.append(_word(text, where, key, replacement) if word
                       else _pattern(text, where, key, replacement))
    return entries


def _word(text: Any, where: str, key: str, replacement: str | None) -> Entry:
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_WORD \
            or not (text.strip()[0].isalnum() and text.strip()[-1].isalnum()):
        raise RubricError(f"{where}: '{key}' entry {text!r} must be a word or phrase of at "
                          f"most {MAX_WORD} characters that starts and ends with a letter or "
                          "digit (use 'patterns' for anything else)")
    return Entry(text.strip(), None, replacement)


def _pattern(text: Any, where: str, key: str, replacement: str | None) -> Entry:
    if not isinstance(text, str):
        raise RubricError(f"{where}: '{key}' entry {text!r} must be a regular expression "
                          f"(text, at most {MAX_PATTERN} characters)")
    try:
        return Entry(text, vet(text), replacement)
    except UnsafePattern as exc:
        raise RubricError(f"{where}: '{key}' pattern {text!r} is refused: {exc}. Custom "
                          "patterns run on pull-request text and must match in linear time "
                          "(see docs/guide.md, Write a custom check)") from None


def _section_rule(spec: dict, where: str, key: str) -> dict[str, Any]:
    sections = spec.get("sections")
    if not isinstance(sections, list) or not sections \
            or not all(isinstance(s, str) and s.strip() for s in sections):
        raise RubricError(f"{where}: '{key}.sections' must list the headings that satisfy "
                          "the rule (any one of them), e.g. [challenges, counter-evidence]")
    fields = spec.get("or_fields") or []
    if not isinstance(fields, list) or not all(isinstance(f, str) and f for f in fields):
        raise RubricError(f"{where}: '{key}.or_fields' must be a list of frontmatter fields")
    return {"sections": tuple(dict.fromkeys(" ".join(s.split()) for s in sections)),
            "or_fields": tuple(fields)}


def _judge_rule(spec: dict, where: str, key: str) -> dict[str, Any]:
    question = _text(spec.get("question"), where, f"{key}.question", MAX_TEXT)
    if not question:
        raise RubricError(f"{where}: '{key}.question' is required: what the LLM judge is "
                          "asked about each claim")
    examples = spec.get("examples") or {}
    if not isinstance(examples, dict) or set(examples) - {"fail", "pass"}:
        raise RubricError(f"{where}: '{key}.examples' must be a mapping with 'fail' and "
                          "'pass' lists")
    found = {}
    for verdict in ("fail", "pass"):
        items = examples.get(verdict) or []
        if not isinstance(items, list) or len(items) > MAX_EXAMPLES or not all(
                isinstance(i, str) and i.strip() and len(i) <= MAX_TEXT for i in items):
            raise RubricError(f"{where}: '{key}.examples.{verdict}' must be a list of at most "
                              f"{MAX_EXAMPLES} texts")
        found[verdict] = tuple(" ".join(i.split()) for i in items)
    return {"question": question, "fail_examples": found["fail"],
            "pass_examples": found["pass"]}


def _text(value: Any, where: str, key: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise RubricError(f"{where}: '{key}' must be text of at most {limit} characters")
    return " ".join(value.split())


def _template(value: Any, where: str, key: str, kind: str) -> str:
    text = _text(value, where, key, MAX_TEXT)
    allowed = PLACEHOLDERS[kind]
    for name in _PLACEHOLDER.findall(text):
        if name not in allowed:
            raise RubricError(f"{where}: '{key}' uses {{{name}}}; a {kind} rule fills in "
                              + ", ".join(f"{{{a}}}" for a in allowed))
    return text


def _names(value: Any, where: str, key: str, known: tuple[str, ...], what: str
           ) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RubricError(f"{where}: '{key}' must be a list of names")
    for item in value:
        if item not in known:
            raise RubricError(f"{where}: '{key}' names unknown {item!r} (known {what}: "
                              f"{', '.join(known) or 'none'})")
    return tuple(value)


def fill(template: str, values: dict[str, str]) -> str:
    """A message or hint with its placeholders filled in (plain replacement, no format
    language: a rubric's text never reaches str.format)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)
