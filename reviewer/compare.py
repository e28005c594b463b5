"""What the change introduces: every finding at head is new, or was already there.

Each changed note's base version (followed through renames) is reviewed against the base
tree with the same rubric. A head finding whose fingerprint (rule and subject, see
`Finding.fingerprint`) the base version also had is `existing`; the others are `new`,
counted with multiplicity (a second copy of an old broken link is one new finding). Base
findings that no longer occur are `fixed`. A file without a base version (added, or only
touched by links the change broke) has only new findings. A judge finding is existing
when the base version's cached answer failed the same criterion; the judge is never
asked about the base version, so without a cached answer it counts as new.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from reviewer.checks.schema import UNREVIEWABLE
from reviewer.claim import Claim
from reviewer.findings import EXISTING, NEW, Finding
from reviewer.kb import ReviewContext
from reviewer.review import FileReport


@dataclass
class BaseReview:
    """The base versions of the change's notes, reviewed: per head path."""

    reports: dict[str, FileReport] = field(default_factory=dict)
    judge_failures: dict[str, set[str]] = field(default_factory=dict)  # criteria it failed
    directives: dict[str, set[tuple]] = field(default_factory=dict)  # suppressions it had


def review_base(ctx: ReviewContext, base_versions: dict[str, Claim]) -> BaseReview:
    """Review the base versions (head path -> base claim) against the base tree."""
    from reviewer import suppress
    from reviewer.engine import leveled, run_checks
    from reviewer.judge import cached_failures

    if not base_versions:
        return BaseReview()
    head_of = {claim.path: head for head, claim in base_versions.items()}
    versions = list(base_versions.values())
    base_ctx = ReviewContext(kb=ctx.base, base=ctx.base,
                             claims=[c for c in versions if c.kind == "claim"],
                             notes=[c for c in versions if c.kind != "claim"],
                             rubric=ctx.rubric, today=ctx.today)
    reports = run_checks(base_ctx)
    failures = cached_failures(reports, base_ctx)
    out = BaseReview()
    for report in reports:
        head = head_of.get(report.path)
        if head is None:
            continue
        suppress.apply(report, None, ctx.rubric)  # merged ones were in force at base
        report.findings = leveled(report.findings, ctx.rubric)
        out.reports[head] = report
        out.judge_failures[head] = failures.get(report.path, set())
        out.directives[head] = suppress.keys_of(base_versions[head], ctx.rubric)
    return out


def may_be_existing(finding: Finding) -> bool:
    """A note that could not be read or checked was not reviewed, whatever its base
    version was like: that always blocks."""
    return finding.rule not in UNREVIEWABLE and not finding.rule.endswith(".internal-error")


def classify(report: FileReport, base: BaseReview) -> None:
    """Mark each finding of `report` new or existing; list what the change fixed."""
    before = base.reports.get(report.path)
    if before is None:
        return
    remaining = Counter(f.fingerprint() for f in before.findings if f.source != "judge")
    failed = base.judge_failures.get(report.path, set())
    for finding in report.findings:
        if finding.source == "judge":
            criterion = finding.rule if finding.rule in failed else finding.check
            finding.status = EXISTING if criterion in failed else NEW
            continue
        key = finding.fingerprint()
        if remaining[key] > 0 and may_be_existing(finding):
            remaining[key] -= 1
            finding.status = EXISTING
        else:
            finding.status = NEW
    report.fixed = _fixed(before.findings, remaining)


def _fixed(findings: list[Finding], remaining: Counter) -> list[Finding]:
    fixed = []
    for finding in findings:
        key = finding.fingerprint()
        if finding.source != "judge" and remaining[key] > 0:
            remaining[key] -= 1
            fixed.append(finding)
    return fixed
