"""The finished review: files and their findings, the verdict, and what the judge spent.

Every face (terminal, pull request, JSON) renders this one shape; `pipeline` builds it and
decides its verdict, once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from reviewer.claim import Claim
from reviewer.findings import EXISTING, NEW, RANK, SEVERITIES, Finding
from reviewer.protocol import APPROVE, REQUEST_CHANGES

if TYPE_CHECKING:
    from reviewer.rubric import Rubric

__all__ = ["APPROVE", "REQUEST_CHANGES", "FileReport", "JudgeSummary", "Review", "decide"]

USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_read_input_tokens",
                "cache_creation_input_tokens")


@dataclass
class FileReport:
    path: str
    findings: list[Finding] = field(default_factory=list)
    claim: Claim | None = None  # None for files reported only for links the change broke
    fixed: list[Finding] = field(default_factory=list)  # at base, gone at head
    suppressed: list[Finding] = field(default_factory=list)  # silenced by a directive

    @property
    def new(self) -> list[Finding]:
        return [f for f in self.findings if f.status == NEW]

    @property
    def existing(self) -> list[Finding]:
        return [f for f in self.findings if f.status == EXISTING]


@dataclass
class JudgeSummary:
    """What the LLM judge did in one review: whether it ran, what it spent, what it said.
    Its `to_dict` is the JSON contract's `judge` object."""

    model: str
    required: bool
    ran: bool = False
    reason: str | None = None  # why it did not run
    judged: int = 0
    requests: int = 0
    cache_hits: int = 0
    usage: dict[str, int] = field(default_factory=lambda: dict.fromkeys(USAGE_FIELDS, 0))
    cost_usd: float | None = 0.0
    errors: list[dict[str, str]] = field(default_factory=list)  # {path, error}
    notes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # per criterion
    recommendations: dict[str, str] = field(default_factory=dict)  # per path

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        order = ("ran", "reason", "model", "required", "judged", "requests", "cache_hits",
                 "usage", "cost_usd", "errors", "notes", "recommendations")
        return {key: data[key] for key in order}


@dataclass
class Review:
    files: list[FileReport]
    verdict: str
    rubric: Rubric
    stats: dict[str, int] = field(default_factory=dict)
    judge: JudgeSummary | None = None
    notes: list[str] = field(default_factory=list)  # plain statements for the review body
    incomplete: str | None = None  # why no verdict may be given (e.g. a required judge failed)
    stale_baseline: list[dict[str, Any]] = field(default_factory=list)  # entries now unmatched
    impact: list[Any] = field(default_factory=list)  # dependents.Impact: what to re-examine
    rubric_impact: str | None = None  # markdown: what a rubric change does to the base

    @property
    def findings(self) -> list[Finding]:
        return [f for report in self.files for f in report.findings]

    def summary(self) -> dict[str, Any]:
        from reviewer.checks import checks_for

        by_check: dict[str, dict[str, int]] = {m.ID: dict.fromkeys(SEVERITIES, 0)
                                               for m in checks_for(self.rubric)}
        for finding in self.findings:
            by_check.setdefault(finding.check, dict.fromkeys(SEVERITIES, 0))
            by_check[finding.check][finding.severity] += 1
        totals = Counter(f.severity for f in self.findings)
        new = Counter(f.severity for f in self.findings if f.status == NEW)
        return {
            "files": len(self.files),
            **self.stats,
            "by_check": by_check,
            "by_severity": {s: totals.get(s, 0) for s in SEVERITIES},
            "new_by_severity": {s: new.get(s, 0) for s in SEVERITIES},
            "existing": sum(1 for f in self.findings if f.status == EXISTING),
            "fixed": sum(len(r.fixed) for r in self.files),
            "suppressed": sum(len(r.suppressed) for r in self.files),
        }


def decide(findings: list[Finding], fail_on: str) -> str:
    """REQUEST_CHANGES when any finding is at or above `fail_on`; an unknown severity
    counts as an error."""
    bar = RANK[fail_on]
    return REQUEST_CHANGES if any(RANK.get(f.severity, 3) >= bar for f in findings) else APPROVE
