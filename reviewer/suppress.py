"""Suppression comments in a note, and the rule that a change cannot silence itself.

    <!-- claim-review-disable-next-line broken-link, ambiguous-link -- the note is coming -->
    <!-- claim-review-disable unknown-field -- imported from the old wiki -->

The first silences the named rules on the next line, the second in the whole file. HTML
comments are invisible in Obsidian and on GitHub. A reason after ` -- ` is required, and
rules are named short (`broken-link`) or long (`wiki_links.broken-link`). In `diff` and
`pr`, a suppression counts only if the base version of the note already had it: one the
change adds is reported (`schema.suppression-added`, with its reason) and takes effect
once merged. A suppression that silences nothing is reported (`unused-suppression`).
Problems reading the file, crashes and the suppression rules themselves cannot be
silenced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reviewer.checks.schema import READING_RULES
from reviewer.claim import Claim, fenced
from reviewer.findings import Finding, make
from reviewer.review import FileReport

OPEN, CLOSE = "<!--", "-->"
NEXT_LINE, WHOLE_FILE = "claim-review-disable-next-line", "claim-review-disable"
MAX_LINE = 2000  # longer lines are not read for directives
UNSILENCEABLE = READING_RULES | {"schema.suppression-added", "schema.unused-suppression",
                                 "schema.invalid-suppression"}


@dataclass(frozen=True)
class Directive:
    kind: str  # NEXT_LINE or WHOLE_FILE
    rules: tuple[str, ...]  # long rule ids
    reason: str
    line: int
    text: str  # the comment as written
    target: str  # the next line's text (NEXT_LINE), so it cannot be moved onto another line

    def key(self) -> tuple[str, tuple[str, ...], str]:
        return (self.kind, self.rules, self.target)

    def covers(self, finding: Finding) -> bool:
        if finding.rule not in self.rules or finding.rule in UNSILENCEABLE \
                or finding.rule.endswith(".internal-error"):
            return False
        return self.kind == WHOLE_FILE or finding.line == self.line + 1


def directives(claim: Claim, rubric: Any = None) -> tuple[list[Directive], list[Finding]]:
    """The note's directives, and a finding for each one that cannot be used. With the
    rubric, its custom rules can be named too (custom.<name>, or <name>)."""
    found: list[Directive] = []
    problems: list[Finding] = []
    lines = claim.text.split("\n")
    for number, (line, code) in enumerate(zip(lines, fenced(lines), strict=True), start=1):
        if code or "claim-review-disable" not in line or len(line) > MAX_LINE:
            continue
        parsed = _parse(line.strip())
        if parsed is None:
            continue
        kind, names, reason = parsed
        rules, unknown = _rules(names, rubric)
        if unknown or not rules or not reason:
            problems.append(_invalid(claim.path, number, line.strip(), unknown, reason))
            continue
        target = lines[number].strip() if kind == NEXT_LINE and number < len(lines) else ""
        found.append(Directive(kind, rules, reason, number, line.strip(), target))
    return found, problems


def _parse(line: str) -> tuple[str, list[str], str] | None:
    """`<!-- claim-review-disable[-next-line] RULES -- REASON -->`, by plain string
    scanning (no pattern that could backtrack on a long line)."""
    if not line.startswith(OPEN) or not line.endswith(CLOSE):
        return None
    inner = line[len(OPEN):-len(CLOSE)].strip()
    for kind in (NEXT_LINE, WHOLE_FILE):
        if inner.startswith(kind + " ") or inner == kind:
            rest = inner[len(kind):].strip()
            names, _, reason = rest.partition(" -- ")
            if names.endswith(" --"):
                names, reason = names[:-3], ""
            return kind, [n.strip() for n in names.split(",") if n.strip()], reason.strip()
    return None


def _rules(names: list[str], rubric: Any = None) -> tuple[tuple[str, ...], list[str]]:
    from reviewer.checks import lookup_rule

    found = [(name, lookup_rule(name, rubric)) for name in names]
    return tuple(sorted({rule for _n, rule in found if rule})), \
        [name for name, rule in found if rule is None]


def _invalid(path: str, line: int, text: str, unknown: list[str], reason: str) -> Finding:
    if unknown:
        what = f"names no rule claim-review knows ({', '.join(unknown)})"
        hint = "name rules as `claim-review explain` does, e.g. broken-link"
    elif not reason:
        what = "gives no reason"
        hint = "add ' -- ' and the reason before '-->'"
    else:
        what = "names no rule"
        hint = "list the rules it silences, e.g. broken-link"
    return make("schema", "invalid-suppression", path, line,
                f"suppression {what}, so it is ignored", hint, value=text)


def apply(report: FileReport, base_keys: set[tuple] | None, rubric: Any = None) -> None:
    """Silence the findings the note's directives cover. `base_keys`: the directives the
    base version had (diff, pr), or None when there is no base to compare with (check)."""
    claim = report.claim
    if claim is None or claim.unreadable:
        return
    found, problems = directives(claim, rubric)
    report.findings.extend(problems)
    used: set[Directive] = set()
    active = [d for d in found if base_keys is None or d.key() in base_keys]
    kept = []
    for finding in report.findings:
        cover = next((d for d in active if d.covers(finding)), None)
        if cover is None:
            kept.append(finding)
        else:
            finding.extras["suppressed_by"] = cover.reason
            report.suppressed.append(finding)
            used.add(cover)
    report.findings = kept
    for directive in found:
        if directive not in active:
            report.findings.append(make(
                "schema", "suppression-added", report.path, directive.line,
                f"this change adds a suppression of {', '.join(directive.rules)} "
                f"(reason: {directive.reason}); it takes effect once merged",
                "a reviewer should agree with the reason", value=directive.text,
                reason=directive.reason))
        elif directive not in used:
            report.findings.append(make(
                "schema", "unused-suppression", report.path, directive.line,
                f"suppression of {', '.join(directive.rules)} silences nothing",
                "remove the comment", value=directive.text))


def keys_of(claim: Claim | None, rubric: Any = None) -> set[tuple]:
    """The directive keys of a note's base version, which a change may rely on."""
    if claim is None or claim.unreadable:
        return set()
    return {d.key() for d in directives(claim, rubric)[0]}
