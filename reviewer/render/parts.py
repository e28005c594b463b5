"""What every renderer shares: plural words, severity icons, the judge's usage line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reviewer.findings import ERROR, INFO, RANK, WARNING, Finding
from reviewer.review import JudgeSummary

ICONS = {ERROR: "❌", WARNING: "⚠️", INFO: "ℹ️"}


@dataclass(frozen=True)
class Display:
    """How a review is shown; never what it decides. `min_severity` leaves lower findings
    out of the lists (the counts and the verdict still cover every finding); `new_only`
    hides existing findings in the terminal text; `quiet` keeps only the findings of the
    terminal text and the annotations; `locate` turns a review path into the path a CI
    system expects (relative to the repository root) for annotations and SARIF."""

    color: bool = False
    new_only: bool = False
    min_severity: str = INFO
    quiet: bool = False
    locate: Callable[[str], str] | None = None

    def shows(self, finding: Finding) -> bool:
        return RANK.get(finding.severity, 3) >= RANK[self.min_severity]

    def hidden(self, findings: Sequence[Finding]) -> int:
        return sum(1 for f in findings if not self.shows(f))

    def where(self, path: str) -> str:
        return self.locate(path) if self.locate is not None else path


def count(n: int, noun: str) -> str:
    """`1 error`, `2 errors`: reviews are read by people."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def usage_line(judge: JudgeSummary | None, notes: Sequence[str] = ()) -> str | None:
    """The judge's one-line account for a review footer: what it spent, or why it did not
    run (unless one of the review's `notes` already says why)."""
    if judge is None:
        return None
    if not judge.ran:
        told = judge.reason and any(judge.reason in note for note in notes)
        return f"judge did not run: {judge.reason}" if judge.reason and not told else None
    usage, price, errors = judge.usage, judge.cost_usd, len(judge.errors)
    return (f"judge {judge.model}: {count(judge.requests, 'request')} "
            f"({count(judge.cache_hits, 'claim')} answered from the local cache), "
            f"{usage['input_tokens']} in / {usage['output_tokens']} out tokens, "
            f"{usage['cache_read_input_tokens']} cache reads / "
            f"{usage['cache_creation_input_tokens']} cache writes, "
            + (f"~${price:.4f}" if price is not None else "cost unknown for this model")
            + (f", {count(errors, 'judge error')}" if errors else ""))
