"""Run the enabled checks over the change, sort the findings, decide the verdict."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from reviewer.checks import CHECKS, wiki_links
from reviewer.claim import Claim
from reviewer.findings import ERROR, OFF, RANK, SEVERITIES, Finding
from reviewer.kb import ReviewContext
from reviewer.rubric import Rubric

APPROVE = "APPROVE"
REQUEST_CHANGES = "REQUEST_CHANGES"


@dataclass
class FileReport:
    path: str
    findings: list[Finding] = field(default_factory=list)
    claim: Claim | None = None  # None for files reported only for links the change broke


@dataclass
class Review:
    files: list[FileReport]
    verdict: str
    rubric: Rubric
    stats: dict[str, int] = field(default_factory=dict)
    judge: dict[str, Any] | None = None  # filled by the LLM judge when it runs
    notes: list[str] = field(default_factory=list)  # plain statements for the review body
    incomplete: str | None = None  # why no verdict may be given (e.g. a required judge failed)

    @property
    def findings(self) -> list[Finding]:
        return [f for report in self.files for f in report.findings]

    def summary(self) -> dict[str, Any]:
        by_check: dict[str, dict[str, int]] = {m.ID: dict.fromkeys(SEVERITIES, 0) for m in CHECKS}
        for finding in self.findings:
            by_check.setdefault(finding.check, dict.fromkeys(SEVERITIES, 0))
            by_check[finding.check][finding.severity] += 1
        totals = Counter(f.severity for f in self.findings)
        return {
            "files": len(self.files),
            **self.stats,
            "by_check": by_check,
            "by_severity": {s: totals.get(s, 0) for s in SEVERITIES},
        }


def review(ctx: ReviewContext) -> Review:
    rubric = ctx.rubric
    enabled = [m for m in CHECKS if rubric.check_enabled(m.ID)]
    options = {m.ID: rubric.check_options(m.ID, m.DEFAULTS) for m in enabled}
    for module in enabled:
        if hasattr(module, "prepare"):
            ctx.state[module.ID] = module.prepare(ctx, options[module.ID])
    reports = {}
    for claim in sorted(ctx.change, key=lambda c: c.path):
        # parse problems count even when a rubric disables the schema check: a file that
        # cannot be read must never pass for want of a check to say so
        found = list(claim.problems)
        for module in enabled if not claim.unreadable else []:
            found.extend(_run(module, claim, ctx, options[module.ID]))
        reports[claim.path] = FileReport(claim.path, found, claim)
    if rubric.check_enabled(wiki_links.ID):
        for finding in wiki_links.broken_by_change(ctx):
            reports.setdefault(finding.path, FileReport(finding.path)).findings.append(finding)
    for report in reports.values():
        report.findings = sorted(_leveled(report.findings, rubric), key=Finding.sort_key)
    files = [reports[p] for p in sorted(reports)]
    result = Review(files, APPROVE, rubric, stats={"reviewed": len(ctx.change)})
    result.verdict = decide(result.findings, rubric)
    return result


def _run(module: Any, claim: Claim, ctx: ReviewContext, options: dict) -> list[Finding]:
    """A bug in one check must not lose the other checks' findings, nor approve."""
    try:
        return list(module.validate(claim, ctx, options))
    except Exception as exc:  # noqa: BLE001 - reported as a finding, fail closed
        return [Finding(module.ID, f"{module.ID}.internal-error", ERROR, claim.path, 1,
                        f"the {module.ID} check crashed on this file ({type(exc).__name__}: "
                        f"{exc})", "report this as a claim-review bug, with the file")]


def _leveled(findings: list[Finding], rubric: Rubric) -> list[Finding]:
    from reviewer.checks import BY_ID

    kept = []
    for finding in findings:
        module = BY_ID.get(finding.check)
        default = module.RULES.get(finding.rule, finding.severity or ERROR) if module else ERROR
        finding.severity = rubric.severity(finding.check, finding.rule, default)
        if finding.severity != OFF:
            kept.append(finding)
    return kept


def decide(findings: list[Finding], rubric: Rubric) -> str:
    bar = RANK[rubric.fail_on]
    return REQUEST_CHANGES if any(RANK.get(f.severity, 3) >= bar for f in findings) else APPROVE
