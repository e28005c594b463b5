"""SARIF 2.1.0, the interchange format of static analysis results (GitHub code scanning,
editors, other CI systems read it).

One run of one tool. Its driver lists every rule claim-review has, each with its own
documentation as help (`claim-review explain RULE` prints the same text) and its effective
severity as default level; each finding becomes a result at its file and line. A result's
`partialFingerprints` carry the finding's fingerprint (rule and subject, independent of
the line and of edits elsewhere), so a result keeps its identity across runs; existing
findings (in the baseline, or there before the change) are `baselineState: unchanged`,
new ones `new`; findings silenced by a comment are listed as suppressed.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from urllib.parse import quote

from reviewer import __version__
from reviewer.checks import ALL_RULES, CHECKS, check_of, custom_rules, rule_doc
from reviewer.findings import ERROR, INFO, NEW, OFF, WARNING, Finding
from reviewer.render.parts import Display
from reviewer.review import Review
from reviewer.scrub import scrub_all

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {ERROR: "error", WARNING: "warning", INFO: "note", OFF: "none"}
FINGERPRINT = "claimReview/v1"


def all_rules(rubric: Any = None) -> list[str]:
    """Every rule a review can report, in the order of the checks: each check's own
    rules, then its judge rule and its internal-error rule; then the rubric's custom
    rules (its checked rules and judge criteria) and custom.internal-error."""
    rules = []
    for module in CHECKS:
        rules += [*module.RULES, f"{module.ID}.judge", f"{module.ID}.internal-error"]
    declared = custom_rules(rubric)
    return [*rules, *declared, "custom.internal-error"] if declared else rules


def render_sarif(review: Review, display: Display | None = None) -> str:
    return json.dumps(scrub_all(sarif_log(review, display)), indent=2, ensure_ascii=False) + "\n"


def sarif_log(review: Review, display: Display | None = None) -> dict[str, Any]:
    display = display or Display()
    rules = all_rules(review.rubric)
    index = {rule: i for i, rule in enumerate(rules)}
    results = []
    for report in review.files:
        seen: Counter[str] = Counter()
        for finding in report.findings:
            occurrence = _occurrence(finding, seen)
            if display.shows(finding):
                results.append(_result(finding, index, display, occurrence))
        for finding in report.suppressed:
            if display.shows(finding):
                result = _result(finding, index, display, _occurrence(finding, seen))
                result["suppressions"] = [{"kind": "inSource", "justification": str(
                    finding.extras.get("suppressed_by", ""))}]
                results.append(result)
    run = {
        "tool": {"driver": {"name": "claim-review", "version": __version__,
                            "semanticVersion": __version__,
                            "rules": [_rule(rule, review) for rule in rules]}},
        "columnKind": "unicodeCodePoints",
        "invocations": [{"executionSuccessful": review.incomplete is None}],
        "results": results,
        "properties": {"verdict": review.verdict if review.incomplete is None else None,
                       "incomplete": review.incomplete, "notes": review.notes,
                       "rubricDigest": review.rubric.digest(),
                       "hidden": display.hidden(review.findings)},
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def _occurrence(finding: Finding, seen: Counter[str]) -> int:
    """The same fingerprint twice in one file (one broken link on two lines) stays two
    results: the second carries its occurrence number."""
    seen[finding.fingerprint()] += 1
    return seen[finding.fingerprint()]


def _rule(rule: str, review: Review) -> dict[str, Any]:
    doc = rule_doc(rule, review.rubric)
    check, _, short = rule.partition(".")
    return {
        "id": rule,
        "name": short,
        "shortDescription": {"text": _first_sentence(doc)},
        "fullDescription": {"text": doc},
        "help": {"text": doc + f"\n\nclaim-review explain {rule}"},
        "defaultConfiguration": {"level": LEVELS.get(_severity(rule, review), "error")},
        "properties": {"check": check, "tags": [check]},
    }


def _severity(rule: str, review: Review) -> str:
    check = rule.split(".", 1)[0]
    if rule.endswith(".judge"):
        return review.rubric.judge.severity.get(check, WARNING)
    if rule.endswith(".internal-error"):
        return ERROR
    if rule not in ALL_RULES:  # a custom rule: its severity, or its judge ceiling
        own = check_of(check, review.rubric)
        return own.RULES.get(rule) or own.CRITERIA[rule]
    return review.rubric.severity(check, rule, ALL_RULES[rule].RULES[rule])


def _first_sentence(text: str) -> str:
    words = " ".join(text.split())
    head, dot, _rest = words.partition(". ")
    return head + "." if dot else words


def _uri(path: str) -> str:
    """A relative reference for a path in the repository; a file URL for an absolute one."""
    encoded = quote(path, safe="/")
    return "file://" + encoded if path.startswith("/") else encoded


def _result(f: Finding, index: dict[str, int], display: Display,
            occurrence: int) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(f.line, 1)}
    if f.column:
        region["startColumn"] = f.column
    fingerprint = f.fingerprint() + (f"#{occurrence}" if occurrence > 1 else "")
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "level": LEVELS.get(f.severity, "error"),
        "message": {"text": f.message + (f" ({f.hint})" if f.hint else "")},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": _uri(display.where(f.path))},
            "region": region}}],
        "partialFingerprints": {FINGERPRINT: fingerprint},
        "baselineState": "new" if f.status == NEW else "unchanged",
        "properties": {"check": f.check, "source": f.source},
    }
    if f.rule in index:
        result["ruleIndex"] = index[f.rule]
    return result
