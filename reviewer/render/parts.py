"""What every renderer shares: plural words, severity icons, the judge's usage line."""

from __future__ import annotations

from reviewer.findings import ERROR, INFO, WARNING
from reviewer.review import JudgeSummary

ICONS = {ERROR: "❌", WARNING: "⚠️", INFO: "ℹ️"}


def count(n: int, noun: str) -> str:
    """`1 error`, `2 errors`: reviews are read by people."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def usage_line(judge: JudgeSummary | None) -> str | None:
    """The judge's one-line account for a review footer: what it spent, or why it did not run."""
    if judge is None:
        return None
    if not judge.ran:
        return f"judge did not run: {judge.reason}" if judge.reason else None
    usage, price, errors = judge.usage, judge.cost_usd, len(judge.errors)
    return (f"judge {judge.model}: {count(judge.requests, 'request')} "
            f"({count(judge.cache_hits, 'claim')} answered from the local cache), "
            f"{usage['input_tokens']} in / {usage['output_tokens']} out tokens, "
            f"{usage['cache_read_input_tokens']} cache reads / "
            f"{usage['cache_creation_input_tokens']} cache writes, "
            + (f"~${price:.4f}" if price is not None else "cost unknown for this model")
            + (f", {count(errors, 'judge error')}" if errors else ""))
