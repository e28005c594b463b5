"""The one pipeline: a change and its rubric in, a finished `Review` and an exit code out.

Every face calls it: the command line (`check`, `diff`), `pr`, and the tests. The flow is
one way: deterministic checks (`engine`), then the LLM judge (`judge`), then the verdict,
decided once over every finding. The judge can only add findings, so it can never turn
REQUEST_CHANGES into APPROVE.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from reviewer.findings import NEW, Finding
from reviewer.review import REQUEST_CHANGES, FileReport, Review, decide

if TYPE_CHECKING:
    from reviewer.change import Change
    from reviewer.engine import Progress
    from reviewer.judge import JudgeResult
    from reviewer.kb import ReviewContext
    from reviewer.rubric import Rubric

    # another way to judge the deterministic reports (the audit's Message Batches judge)
    Judge = Callable[[list[FileReport], ReviewContext], JudgeResult]

EXIT_APPROVE, EXIT_CHANGES, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3


def build_review(change: Change, no_llm: bool = False, judge: Judge | None = None,
                 progress: Progress | None = None,
                 judge_progress: Callable[[Any], None] | None = None) -> Review:
    """Deterministic checks, then the judge, then what the change introduces (against
    the base versions, suppressions and the baseline), then the verdict. `judge`
    replaces the Messages API judge (the audit's batches); it adds findings the same
    way. `progress` is told how far the checks have got, `judge_progress` the judge."""
    from reviewer import suppress
    from reviewer.compare import BaseReview, classify, review_base
    from reviewer.dependents import dependents_of
    from reviewer.engine import leveled, run_checks
    from reviewer.judge import judge_claims

    ctx, rubric = change.ctx, change.ctx.rubric
    # before the checks: on a cold index it parses each note once, links included,
    # where the checks would have parsed them without links first
    impact = dependents_of(change) if change.compared else []
    reports = run_checks(ctx, progress)
    judged = judge(reports, ctx) if judge is not None else \
        judge_claims(reports, ctx, no_llm=no_llm, progress=judge_progress)
    by_path = {report.path: report for report in reports}
    scope = change.scope.findings() if change.scope is not None else []
    for finding in [*judged.findings, *scope]:
        by_path.setdefault(finding.path, FileReport(finding.path)).findings.append(finding)
    reports = [by_path[path] for path in sorted(by_path)]
    base = review_base(ctx, change.base_versions) if change.compared else BaseReview()
    for report in reports:
        suppress.apply(report, base.directives.get(report.path, set())
                       if change.compared else None, rubric)
        report.findings = leveled(report.findings, rubric)
        classify(report, base)
        report.findings.sort(key=Finding.sort_key)
    stale = change.baseline.apply(reports, changed=change.compared) \
        if change.baseline is not None else []
    return Review(files=reports, verdict=decide(counted(reports, rubric), rubric.fail_on),
                  rubric=rubric, stats=change.stats(), judge=judged.summary,
                  notes=list(judged.notes), incomplete=judged.incomplete,
                  stale_baseline=stale, impact=impact)


def counted(reports: list[FileReport], rubric: Rubric) -> list[Finding]:
    """The findings the verdict counts: new ones (verdict.count: new, the default), or
    every one (all)."""
    every = rubric.verdict.count == "all"
    return [f for report in reports for f in report.findings if every or f.status == NEW]


def exit_code(review: Review, fail_on: str = "request-changes") -> int:
    """0 APPROVE, 1 REQUEST_CHANGES (0 with `fail_on="never"`), 3 no verdict."""
    if review.incomplete is not None:
        return EXIT_INCOMPLETE
    return verdict_code(review.verdict, fail_on)


def verdict_code(verdict: str, fail_on: str = "request-changes") -> int:
    return EXIT_CHANGES if verdict == REQUEST_CHANGES and fail_on != "never" else EXIT_APPROVE


def model_override(option: str | None, env: Mapping[str, str] = os.environ) -> str | None:
    """--model, else CLAIM_REVIEW_MODEL; None leaves the rubric's judge.model."""
    return option or env.get("CLAIM_REVIEW_MODEL") or None
