"""schema: the frontmatter is present, parses, and holds the fields a claim needs.

What it checks
    The file opens with a closed YAML frontmatter block that is a mapping of
    text field names, each given once; the rubric's required fields are there
    and not blank; `type` is the claim type; `domain` and `confidence` take
    allowed values (the closest valid value is suggested); date fields are ISO
    dates (YYYY-MM-DD), not in the future, and `last_evaluated` is not before
    `created`; list fields are lists of strings; fields the rubric does not
    know are noted; an H1 title exists and matches the file name.

    Problems found while reading the file are reported under this check too,
    although they are raised by the parser (reviewer/parse.py) and by the
    change reader (reviewer/change.py), not by this check's validator: no
    frontmatter (`no-frontmatter`), frontmatter never closed
    (`unclosed-frontmatter`), YAML that does not parse (`invalid-yaml`) or
    expands through aliases past a size limit (`unsafe-yaml`), frontmatter
    that is not a mapping (`not-a-mapping`), a key that is not a field name
    (`invalid-key`) or is given twice (`duplicate-key`), bytes that are not
    UTF-8 (`invalid-encoding`), binary content (`binary-file`), a file over
    `files.max_bytes` (`file-too-large`) and a path that is not a regular
    file (`not-a-regular-file`). They are reported even when a rubric
    disables the schema check, and a binary file or a non-regular file is
    judged by no other check.

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
from reviewer.settings import DocumentType

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
    "schema.invalid-value": ERROR,
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
RULE_DOCS = {
    "schema.no-frontmatter": (
        "Flags a file whose first line is not '---', so it has no YAML frontmatter at all. It "
        "is found by the parser while the file is read, and reported even when a rubric "
        "disables the schema check; the field rules below are then skipped, since there are "
        "no fields to check. Without frontmatter a note has no type, domain, confidence or "
        "source, so searches, maps and every other tool that reads fields lose it. A "
        "byte-order mark is tolerated, a blank line before '---' is not. "
        "Example: a file that opens with '# Bus lanes cut delays' instead of '---'."),
    "schema.unclosed-frontmatter": (
        "Flags a file that opens a frontmatter block with '---' on line 1 but never closes it "
        "with a later '---' (or '...') line. It is found by the parser while the file is read "
        "and is reported even when the schema check is disabled. The whole file would be read "
        "as YAML, so the claim ends up with no body, no title and no links to check. "
        "Example: '---', 'type: claim', 'domain: soil-science', then straight into "
        "'# Cover crops ...' with no closing '---'."),
    "schema.invalid-yaml": (
        "Flags frontmatter that is not valid YAML, or whose values YAML cannot build (an "
        "explicit tag that does not fit its value). It is found by the parser and reported on "
        "the line YAML names, even when the schema check is disabled. A YAML error drops every "
        "field, so one unquoted colon hides the domain, confidence and source together. "
        "Example: 'description: Bus lanes: the 2024 audit' (the second colon needs the value "
        "quoted), or 'created: !!int soon'."),
    "schema.unsafe-yaml": (
        "Flags frontmatter whose anchors and aliases expand to more than 20,000 YAML nodes, "
        "the shape of a 'billion laughs' attack. It is found by the parser before the values "
        "are built, so a few hundred bytes cannot exhaust the reviewer's memory, and it is "
        "reported even when the schema check is disabled. Real claims never need aliases. "
        "Example: 'a: &a [x, x, x, x, x, x, x, x, x, x]', then 'b: &b [*a, *a, *a, ...]' "
        "nested a few levels deep."),
    "schema.not-a-mapping": (
        "Flags frontmatter that is valid YAML but a list or a plain scalar instead of "
        "'key: value' fields. It is found by the parser and reported even when the schema "
        "check is disabled; no field can be read from such a block. "
        "Example: a frontmatter block made of '- type: claim' and '- domain: health' list "
        "items, or of one line of prose."),
    "schema.invalid-key": (
        "Flags a frontmatter key that YAML reads as something other than text: a number, a "
        "date, true/false or null. It is found by the parser and reported on the key's line, "
        "even when the schema check is disabled. Such a key is usually a value that lost its "
        "field name, and no check can use it. "
        "Example: a line '2024: Okafor cover crop trial' where 'source: ...' was meant."),
    "schema.duplicate-key": (
        "Flags a frontmatter field given twice. YAML silently keeps only the last value, so "
        "the first is lost without a trace; the finding is reported on the second "
        "occurrence, by the parser, even when the schema check is disabled. "
        "Example: 'confidence: likely' on line 5 and 'confidence: proven' on line 9, where "
        "only 'proven' counts."),
    "schema.invalid-encoding": (
        "Flags a file that is not valid UTF-8, on the line of the first bad byte. It is found "
        "while the file is read and reported even when the schema check is disabled; the rest "
        "is decoded with replacement characters so the other checks can still run. Other "
        "tools may refuse such a file or show mangled text. "
        "Example: a claim saved as Latin-1 whose 'café' holds the single byte 0xe9."),
    "schema.binary-file": (
        "Flags a file with a NUL byte anywhere: it is binary, not Markdown. It is "
        "found while the file is read and reported even when the schema check is disabled, "
        "and no other check judges the file, since it has no text to judge. "
        "Example: an image or a PDF saved under a '.md' name in a claim folder."),
    "schema.file-too-large": (
        "Flags a file larger than the rubric's 'files.max_bytes' (2,000,000 bytes by "
        "default). It is found before the file is parsed and reported even when the schema "
        "check is disabled; the file is neither parsed nor sent to the LLM judge. A "
        "claim is one proposition with its argument, so a file this size is bulk data that "
        "belongs elsewhere, and reading it whole would slow every review. "
        "Example: a claim with a pasted 5 MB CSV table in its body."),
    "schema.not-a-regular-file": (
        "Flags a path under review that is not a regular file: in 'diff', a changed path that "
        "git records as a symbolic link or a submodule; in 'check', a named path that is a "
        "device or a pipe. It is raised by the change reader, which never follows or reads "
        "such a path, and it is reported even when the schema check is disabled; no other "
        "check judges the path. Following a link could read files outside the repository, "
        "and reading a pipe could block the review. "
        "Example: a pull request that adds 'domains/health/x.md' as a symlink to "
        "'/etc/passwd'."),
    "schema.missing-field": (
        "Flags a field listed under the rubric's 'schema.required' that is absent or null, on "
        "the last line of the frontmatter. Every check and tool downstream reads these fields: "
        "a claim without 'confidence' cannot be weighed, one without 'source' cannot be "
        "traced. By default type, domain, description, confidence, source and created are "
        "required. Example: frontmatter with no 'created:' line."),
    "schema.empty-field": (
        "Flags a required field that is present but blank: an empty or whitespace-only "
        "string, an empty list or an empty mapping. It is reported on the field's line. A "
        "blank value passes a presence test but carries no information, which is worse than "
        "a missing field because it looks filled in. "
        "Example: 'source: \"\"' or 'domain: \"  \"' (a line with no value at all, "
        "'source:', is null and counts as missing)."),
    "schema.not-a-string": (
        "Flags type, domain, description, confidence or source when YAML reads it as "
        "something other than text: a number, a date, a list, a mapping or true/false. These "
        "fields are compared and displayed as text, so another type breaks enum checks and "
        "search. Example: 'source: 2024' (a number) or 'description: [a, b]' (a list); quote "
        "the value instead."),
    "schema.wrong-type": (
        "Flags a note whose 'type' is not the rubric's claim type ('claim' by default) although "
        "the file is reviewed as a claim, because it sits under 'claims.paths' or was named "
        "on the command line. Such a note is left out of claim indexes and maps while it "
        "still lives among the claims. "
        "Example: 'type: insight' in a file under 'domains/software-reliability/'."),
    "schema.invalid-domain": (
        "Flags a 'domain' that is not one of the rubric's 'schema.domains', naming the closest "
        "valid value when one is close enough; when the rubric lists no domains, any "
        "lowercase slug is accepted and anything else is flagged with its slug as the "
        "suggestion. A misspelled domain silently drops the claim out of its domain's maps "
        "and reviewers. Example: 'domain: urban-transport' where the rubric allows "
        "'urban-transit'."),
    "schema.invalid-confidence": (
        "Flags a 'confidence' that is not one of the rubric's 'schema.confidence' levels "
        "(proven, likely, experimental, speculative by default), naming the closest valid "
        "level. Readers and agents weigh claims by this field, and the confidence check "
        "cannot judge a level it does not know. "
        "Example: 'confidence: highly likely' (did you mean 'likely'?)."),
    "schema.invalid-value": (
        "Flags, in a note of another document type the rubric declares (types.<name>), a "
        "field whose value is not one the type's enums allow. Tools that route or count such "
        "notes by that field (a source's processing status, a position's outcome) lose a "
        "note whose value is misspelled. The closest allowed value is suggested. "
        "Example: a source note with 'status: procesed' where the rubric allows "
        "unprocessed, processing, processed and null-result."),
    "schema.invalid-date": (
        "Flags a date field ('schema.date_fields': created, last_evaluated) whose value is "
        "not an ISO date YYYY-MM-DD, or is one that does not exist in the calendar. Dates "
        "order the knowledge base's history and drive re-evaluation, so a date that cannot be "
        "read is as good as none. "
        "Example: 'created: 14/03/2026' or 'created: 2026-02-30'."),
    "schema.future-date": (
        "Flags a date field later than today (or than CLAIM_REVIEW_TODAY when it is set). A "
        "claim cannot have been written or evaluated in the future; the date is a typo, and "
        "it would sort the claim wrongly and postpone its re-evaluation. "
        "Example: 'created: 2031-01-05' in a claim reviewed in 2026."),
    "schema.not-a-list": (
        "Flags a field listed under 'schema.list_fields' (depends_on, challenged_by, "
        "secondary_domains) that is not a list of strings: a single string, a number, or a "
        "list holding non-text items. Tools iterate these fields; a bare string is iterated "
        "character by character. "
        "Example: 'depends_on: \"Cover crops raise soil carbon\"' instead of a '- ...' "
        "list item."),
    "schema.invalid-secondary-domain": (
        "Flags an entry of 'secondary_domains' that is not one of the rubric's domains, "
        "naming the closest valid one. It is a warning, since the primary domain still files "
        "the claim correctly; only the cross-domain maps miss it. It is checked only when the "
        "rubric lists its domains. Example: 'secondary_domains: [helth]'."),
    "schema.date-order": (
        "Flags a claim whose 'last_evaluated' date is earlier than its 'created' date. A "
        "claim is evaluated after it is written, so one of the two dates is wrong, and "
        "re-evaluation schedules built on them misfire. It is a warning because both dates "
        "are otherwise valid. "
        "Example: 'created: 2026-03-01' with 'last_evaluated: 2025-12-01'."),
    "schema.unknown-field": (
        "Notes a frontmatter field that the rubric's schema does not list (required, "
        "optional, date or list fields), as information only. It is usually a typo of a "
        "known field, whose value then never reaches the checks, or a convention the rubric "
        "should list. Turn it off with 'report_unknown_fields: false'. "
        "Example: 'challenged-by:' (hyphen) where the schema knows 'challenged_by'."),
    "schema.missing-title": (
        "Flags a body with no H1 heading ('# ...') outside code blocks. The title is the claim "
        "itself, the proposition other notes link to; without an H1 the reviewer falls back "
        "to the file name, which loses punctuation and capitals. It is reported on the first "
        "body line. Example: a body of prose and '## Evidence' sections with no '# ' line "
        "anywhere."),
    "schema.title-mismatch": (
        "Flags an H1 title that does not match the file name under the 'title_match' option: "
        "'verbatim' compares the words and hyphens, ignoring case and other punctuation; "
        "'slug' compares slugs; 'either' (the default) accepts both; 'off' skips the rule. "
        "Links resolve by file name, so a title that drifted from its file name is linked by "
        "a name readers never see. "
        "Example: '# Bus lanes cut delays' in 'bus-lanes-reduce-delays.md'."),
    "schema.unreviewed-path": (
        "Flags, in diff and pr, a path the change touches that no check reviewed and no "
        "files.ignore glob of the rubric lists: a script, a configuration file, a note of a "
        "type the rubric does not review, a Markdown note whose frontmatter cannot be read "
        "so its type is unknown, or any name holding a control character. The verdict must "
        "mean that everything the change touches was reviewed, so such a change is never "
        "approved, and no rubric can lower this rule; a person reviews it, or the base "
        "branch's rubric lists such paths in files.ignore. "
        "Example: a pull request that edits only 'ops/deploy.sh' or 'CLAUDE.md'."),
    "schema.deleted-claim": (
        "Flags, in diff and pr, a claim the change deletes, or renames into something that "
        "is no claim. Other notes may rely on it through links and depends_on, and a "
        "knowledge base's history is easier to follow when claims are retired (a status "
        "field, superseded_by) than when they vanish. A warning by default; the teleo-codex "
        "preset makes it an error, as its schema says claims are never deleted. "
        "Example: 'git rm domains/health/Clinic hours shape vaccination uptake.md'."),
    "schema.suppression-added": (
        "Notes, in diff and pr, a suppression comment the change adds "
        "('<!-- claim-review-disable-next-line RULE -- reason -->' or "
        "'<!-- claim-review-disable RULE -- reason -->'), with its reason. It does not take "
        "effect in this review: a change cannot silence its own findings, so a person sees "
        "the reason before it counts, once merged. "
        "Example: a new claim whose broken link is preceded by "
        "'<!-- claim-review-disable-next-line broken-link -- stub note coming -->'."),
    "schema.unused-suppression": (
        "Flags a suppression comment in force that silences nothing: the rule it names no "
        "longer fires on the next line (or anywhere in the file, for a whole-file one). A "
        "stale suppression would silently hide the next real problem there, so remove it. "
        "Example: '<!-- claim-review-disable-next-line broken-link -- note not written yet -->' "
        "above a link whose note now exists."),
    "schema.invalid-suppression": (
        "Flags a suppression comment that is ignored: it gives no reason after ' -- ', names "
        "a rule that does not exist, or names none. A suppression without a reason cannot be "
        "reviewed, and a misspelled rule silences nothing while looking as if it did. "
        "Comments inside fenced code blocks are examples, not suppressions. "
        "Example: '<!-- claim-review-disable-next-line brokn-link -->'."),
}
DEFAULTS = {"title_match": "either", "report_unknown_fields": True}
CHOICES = {"title_match": ("slug", "verbatim", "either", "off")}

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_PUNCTUATION = re.compile(r"[^\w\s-]")  # hyphens stay: they tell a slug from a title
STRING_FIELDS = ("type", "domain", "description", "confidence", "source")


def validate(claim: Claim, ctx: ReviewContext, options: dict) -> Iterator[Finding]:
    # parse problems (claim.problems) are added by the engine, whether or not this runs
    if claim.frontmatter is None:
        return
    kind = ctx.rubric.document_type(claim.kind) if claim.kind != "claim" else None
    if kind is not None:
        yield from _typed(claim, kind, options)
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


def _typed(claim: Claim, kind: DocumentType, options: dict) -> Iterator[Finding]:
    """A note of another declared type: its own required fields and enums."""
    spec = {"required": list(kind.required)}
    yield from _required(claim, spec)
    for name, allowed in kind.enums.items():
        value = claim.fm.get(name)
        if value is not None and (not isinstance(value, str) or value not in allowed):
            yield _f(claim, "invalid-value", claim.line_of(name),
                     f"{kind.name} field '{name}' is {value!r}, not one of: "
                     f"{', '.join(allowed)}", _closest_hint(str(value), list(allowed)),
                     field=name, value=str(value))
    if options["report_unknown_fields"]:
        known = set(kind.required) | set(kind.optional) | set(kind.enums) | {"type"}
        for name in claim.fm:
            if name not in known:
                yield _f(claim, "unknown-field", claim.line_of(name),
                         f"field '{name}' is not in the rubric's schema of {kind.name} notes",
                         f"remove it, or list it under types.{kind.name}.optional",
                         field=name)


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
