"""schema: the frontmatter is present, parses, and holds the fields a claim needs.

What it checks
    The file opens with a closed YAML frontmatter block that is a mapping of
    text field names, each given once; the rubric's required fields are there
    and not blank; `type` is the claim type; `domain` and `confidence` take
    allowed values (the closest valid value is suggested); date fields are ISO
    dates (YYYY-MM-DD), not in the future, and `last_evaluated` is not before
    `created`; list fields are lists of strings; fields the rubric does not
    know are noted; an H1 title exists and matches the file name.

    Problems found while reading the file are schema rules too, raised by
    the parser before any check runs and reported even when a rubric turns
    this check off: no-frontmatter, unclosed-frontmatter, invalid-yaml,
    unsafe-yaml (aliases that expand too far), not-a-mapping, invalid-key,
    duplicate-key, invalid-encoding, binary-file, file-too-large and
    not-a-regular-file (a symbolic link, submodule, device or pipe). A file
    that cannot be read at all is judged by no other check.

    In diff and pr, every path the change touches is accounted for: a claim
    is reviewed, a path matching the rubric's files.ignore is ignored, and
    anything else (a script, a note of another type, a note whose type cannot
    be read, a name with a control character) is unreviewed-path, an error
    that no rubric can lower. A claim the change deletes, or renames into
    something that is no claim, is deleted-claim.

    Suppression comments are read here too (see reviewer/suppress.py):
    invalid-suppression (no reason, or a rule that does not exist),
    unused-suppression (it silences nothing), and suppression-added (a pull
    request adds one; it takes effect only once merged).

Why it matters
    Every other check and every tool downstream reads these fields. A claim with
    a mistyped confidence or a missing source silently drops out of searches,
    maps and calibration.

Options
    title_match: slug | verbatim | either | off (default either): how the H1
        title must match the file name.
    report_unknown_fields: report fields the rubric does not list (default true).
    The fields, enums and date format come from the rubric's `schema:` section.

Failing example
    ---
    type: insight
    confidence: highly likely
    created: 2031-02-30
    ---

Passing example
    ---
    type: claim
    domain: soil-science
    description: "Cover crops raise topsoil carbon by 0.3 t/ha/yr in temperate trials"
    confidence: likely
    source: "Poeplau and Don, meta-analysis of 139 plots, 2015"
    created: 2026-03-01
    ---
    # Cover crops raise soil carbon in temperate cropland ...

What the judge is asked
    Whether the domain classification is accurate for the claim's content.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime

from rapidfuzz import process

from reviewer.claim import Claim, slugify
from reviewer.findings import ERROR, INFO, WARNING, Finding, make
from reviewer.kb import ReviewContext

ID = "schema"
TITLE = "Schema"
RULES = {
    "schema.no-frontmatter": ERROR,
    "schema.unclosed-frontmatter": ERROR,
    "schema.invalid-yaml": ERROR,
    "schema.unsafe-yaml": ERROR,
    "schema.not-a-mapping": ERROR,
    "schema.invalid-key": ERROR,
    "schema.duplicate-key": ERROR,
    "schema.invalid-encoding": ERROR,
    "schema.binary-file": ERROR,
    "schema.file-too-large": ERROR,
    "schema.not-a-regular-file": ERROR,
    "schema.missing-field": ERROR,
    "schema.empty-field": ERROR,
    "schema.not-a-string": ERROR,
    "schema.wrong-type": ERROR,
    "schema.invalid-domain": ERROR,
    "schema.invalid-confidence": ERROR,
    "schema.invalid-date": ERROR,
    "schema.future-date": ERROR,
    "schema.not-a-list": ERROR,
    "schema.invalid-secondary-domain": WARNING,
    "schema.date-order": WARNING,
    "schema.unknown-field": INFO,
    "schema.missing-title": WARNING,
    "schema.title-mismatch": WARNING,
    "schema.unreviewed-path": ERROR,
    "schema.deleted-claim": WARNING,
    "schema.suppression-added": INFO,
    "schema.unused-suppression": WARNING,
    "schema.invalid-suppression": WARNING,
}
# raised while reading the file (reviewer/parse.py, reviewer/change.py), never silenced;
# the first group means the note could not be reviewed at all, so it always blocks
UNREVIEWABLE = frozenset({
    "schema.no-frontmatter", "schema.unclosed-frontmatter", "schema.invalid-yaml",
    "schema.unsafe-yaml", "schema.not-a-mapping", "schema.invalid-encoding",
    "schema.binary-file", "schema.file-too-large", "schema.not-a-regular-file",
    "schema.unreviewed-path"})
READING_RULES = UNREVIEWABLE | {"schema.invalid-key", "schema.duplicate-key"}
DEFAULTS = {"title_match": "either", "report_unknown_fields": True}
CHOICES = {"title_match": ("slug", "verbatim", "either", "off")}

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_PUNCTUATION = re.compile(r"[^\w\s-]")  # hyphens stay: they tell a slug from a title
STRING_FIELDS = ("type", "domain", "description", "confidence", "source")


def validate(claim: Claim, ctx: ReviewContext, options: dict) -> Iterator[Finding]:
    # parse problems (claim.problems) are added by the engine, whether or not this runs
    if claim.frontmatter is None:
        return
    spec = ctx.rubric.schema
    yield from _required(claim, spec)
    yield from _strings(claim)
    yield from _type(claim, spec)
    yield from _enums(claim, spec)
    yield from _dates(claim, spec, ctx.today)
    yield from _lists(claim, spec)
    if options["report_unknown_fields"]:
        yield from _unknown(claim, spec)
    yield from _title(claim, options["title_match"])


def _f(claim: Claim, rule: str, line: int, message: str, hint: str, **extras) -> Finding:
    return make(ID, rule, claim.path, line, message, hint, **extras)


def _required(claim: Claim, spec: dict) -> Iterator[Finding]:
    last_line = max(claim.key_lines.values(), default=1)
    for name in spec["required"]:
        value = claim.fm.get(name)
        if name not in claim.fm or value is None:
            yield _f(claim, "missing-field", last_line, f"required field '{name}' is missing",
                     f"add '{name}:' to the frontmatter", field=name)
        elif isinstance(value, str) and not value.strip() or value in ([], {}):
            yield _f(claim, "empty-field", claim.line_of(name), f"required field '{name}' is empty",
                     f"give '{name}' a value", field=name)


def _strings(claim: Claim) -> Iterator[Finding]:
    for name in STRING_FIELDS:
        value = claim.fm.get(name)
        if value is not None and not isinstance(value, str):
            yield _f(claim, "not-a-string", claim.line_of(name),
                     f"field '{name}' should be text, got a YAML {type(value).__name__}",
                     f"write '{name}' as a single quoted string", field=name)


def _type(claim: Claim, spec: dict) -> Iterator[Finding]:
    value = claim.fm.get("type")
    if isinstance(value, str) and value.strip() and value != spec["type"]:
        yield _f(claim, "wrong-type", claim.line_of("type"),
                 f"'type: {value}' is not '{spec['type']}', yet the file sits where claims live",
                 f"set 'type: {spec['type']}', or move the note out of the claim folders",
                 field="type", value=value)


def _enums(claim: Claim, spec: dict) -> Iterator[Finding]:
    domain = claim.fm.get("domain")
    if isinstance(domain, str) and domain.strip():
        yield from _enum(claim, "domain", domain, spec["domains"], "invalid-domain")
    level = claim.fm.get("confidence")
    if isinstance(level, str) and level.strip():
        yield from _enum(claim, "confidence", level, spec["confidence"], "invalid-confidence")
    secondary = claim.fm.get("secondary_domains")
    if isinstance(secondary, list) and spec["domains"]:
        for item in secondary:
            if isinstance(item, str) and item not in spec["domains"]:
                yield _f(claim, "invalid-secondary-domain", claim.line_of("secondary_domains"),
                         f"secondary domain '{item}' is not one of the rubric's domains",
                         _closest_hint(item, spec["domains"]), field="secondary_domains",
                         value=item, suggestion=_closest(item, spec["domains"]))


def _enum(claim: Claim, name: str, value: str, allowed: list, rule: str) -> Iterator[Finding]:
    if allowed and value in allowed:
        return
    if not allowed:  # a generic rubric accepts any lowercase slug
        if SLUG.match(value):
            return
        suggestion = slugify(value)
        yield _f(claim, rule, claim.line_of(name), f"{name} '{value}' is not a lowercase slug",
                 f"write it as '{suggestion}'", field=name, value=value, suggestion=suggestion)
        return
    suggestion = _closest(value, allowed)
    yield _f(claim, rule, claim.line_of(name),
             f"{name} '{value}' is not one of: {', '.join(map(str, allowed))}",
             _closest_hint(value, allowed), field=name, value=value, suggestion=suggestion)


def _closest(value: str, allowed: list) -> str | None:
    found = process.extractOne(value.lower(), [str(a) for a in allowed])
    return found[0] if found and found[1] >= 50 else None


def _closest_hint(value: str, allowed: list) -> str:
    best = _closest(value, allowed)
    return f"did you mean '{best}'?" if best else "use one of the allowed values"


def _dates(claim: Claim, spec: dict, today: date) -> Iterator[Finding]:
    for name in spec["date_fields"]:
        if claim.fm.get(name) is None:
            continue
        value = claim.fm[name]
        parsed = _as_date(value)
        line = claim.line_of(name)
        if parsed is None:
            yield _f(claim, "invalid-date", line, f"{name} '{value}' is not an ISO date",
                     "write it as YYYY-MM-DD, for example 2026-03-14", field=name)
        elif parsed > today:
            yield _f(claim, "future-date", line,
                     f"{name} {parsed.isoformat()} is in the future (today is {today.isoformat()})",
                     "use the date the claim was actually written or evaluated", field=name)
    created, evaluated = _as_date(claim.fm.get("created")), \
        _as_date(claim.fm.get("last_evaluated"))
    if created and evaluated and evaluated < created:
        yield _f(claim, "date-order", claim.line_of("last_evaluated"),
                 f"last_evaluated {evaluated.isoformat()} is before created "
                 f"{created.isoformat()}", "a claim is evaluated after it is written: fix "
                 "either date", field="last_evaluated")


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _lists(claim: Claim, spec: dict) -> Iterator[Finding]:
    for name in spec["list_fields"]:
        value = claim.fm.get(name)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            got = "list with non-text items" if isinstance(value, list) else type(value).__name__
            yield _f(claim, "not-a-list", claim.line_of(name),
                     f"field '{name}' should be a list of strings, got a {got}",
                     f"write it as '{name}:' followed by '  - \"...\"' lines", field=name)


def _unknown(claim: Claim, spec: dict) -> Iterator[Finding]:
    known = set(spec["required"]) | set(spec["optional"]) | set(spec["date_fields"]) \
        | set(spec["list_fields"])
    for name in claim.fm:
        if name not in known:
            yield _f(claim, "unknown-field", claim.line_of(name),
                     f"field '{name}' is not in the rubric's schema",
                     "remove it, or list it under schema.optional in the rubric", field=name)


def _title(claim: Claim, mode: str) -> Iterator[Finding]:
    if mode == "off":
        return
    if claim.title_line is None:
        yield _f(claim, "missing-title", claim.body_line,
                 "the body has no H1 title ('# ...') stating the claim",
                 f"add '# {claim.stem}' as the first line of the body")
        return
    verbatim = _loose(claim.title) == _loose(claim.stem)
    slug = slugify(claim.title) == slugify(claim.stem)
    ok = {"verbatim": verbatim, "slug": slug, "either": verbatim or slug}.get(mode, True)
    if not ok:
        yield _f(claim, "title-mismatch", claim.title_line,
                 f"H1 title '{claim.title}' does not match the file name '{claim.stem}.md'",
                 "rename the file or edit the title so links by title resolve",
                 title=claim.title)


ENUM_CERTAIN = 80  # least similarity of an enum value to its closest allowed value ...
ENUM_MARGIN = 20  # ... which must beat the runner-up by this much
_FIXABLE = {"schema.invalid-domain": "domains", "schema.invalid-confidence": "confidence"}


def fix(finding: Finding, line: str, claim: Claim, ctx: ReviewContext,
        options: dict) -> str | None:
    """`domain:` or `confidence:` set to a value with one clearly closest allowed value
    (or, with no list, its slug): `line` with that value in its place."""
    name, value = finding.extras.get("field"), finding.extras.get("value")
    best = finding.extras.get("suggestion")
    if finding.rule not in _FIXABLE or \
            not all(isinstance(v, str) and v for v in (name, value, best)):
        return None
    allowed = [str(a) for a in ctx.rubric.schema.get(_FIXABLE[finding.rule]) or []]
    if allowed:  # a closest value must be clearly closest; a slug fix is always mechanical
        scores = process.extract(value.lower(), allowed, limit=2)
        runner_up = scores[1][1] if len(scores) > 1 else 0
        if scores[0][0] != best or scores[0][1] < ENUM_CERTAIN \
                or scores[0][1] - runner_up < ENUM_MARGIN:
            return None
    pattern = re.compile(r"^(\s*" + re.escape(name) + r"\s*:\s*)([\"']?)" + re.escape(value)
                         + r"\2(\s*(?:#.*)?)$")
    m = pattern.match(line)
    if m is None:
        return None
    return f"{m.group(1)}{m.group(2)}{best}{m.group(2)}{m.group(3)}"


def _loose(text: str) -> str:
    """Titles keep punctuation that file names drop (`agents'`, `:`, `?`, commas); words and
    hyphens must match, so `bus-lanes-cut.md` is not the verbatim name of "Bus lanes cut"."""
    return " ".join(_PUNCTUATION.sub("", text.lower()).split())
