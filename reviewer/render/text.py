"""Terminal output: `path:line: severity rule message`, grouped by file, coloured on a TTY."""

from __future__ import annotations

import click

from reviewer.engine import APPROVE, Review
from reviewer.findings import ERROR, INFO, WARNING
from reviewer.judge import usage_line
from reviewer.render import count

COLORS = {ERROR: "red", WARNING: "yellow", INFO: "cyan"}


def render_text(review: Review, color: bool = False) -> str:
    lines: list[str] = []
    for report in review.files:
        if not report.findings:
            continue
        for f in report.findings:
            severity = click.style(f.severity, fg=COLORS.get(f.severity)) if color else f.severity
            hint = f" ({f.hint})" if f.hint else ""
            lines.append(f"{f.path}:{f.line}: {severity} {f.rule} {f.message}{hint}")
        lines.append("")
    lines.extend(review.notes)
    account = usage_line(review.judge)
    if account:
        lines.append(account)
    lines.append(_summary(review, color))
    return "\n".join(lines) + "\n"


def _summary(review: Review, color: bool) -> str:
    s = review.summary()
    counts = s["by_severity"]
    extra = "".join(f", {s[k]} {label}" for k, label in
                    (("skipped", "skipped (not claims)"), ("deleted", "deleted")) if s.get(k))
    verdict = review.verdict if review.incomplete is None else \
        f"none, the review is incomplete: {review.incomplete}"
    if color:
        verdict = click.style(verdict, fg="green" if verdict == APPROVE else "red", bold=True)
    return (f"{count(s['reviewed'], 'claim')} reviewed{extra}: {count(counts[ERROR], 'error')}, "
            f"{count(counts[WARNING], 'warning')}, {counts[INFO]} info. Verdict: {verdict}")
