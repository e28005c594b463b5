"""Terminal output: `path:line: severity rule message`, grouped by file, coloured on a TTY."""

from __future__ import annotations

import re

import click

from reviewer.findings import ERROR, INFO, WARNING
from reviewer.render.parts import count, usage_line
from reviewer.review import APPROVE, Review

COLORS = {ERROR: "red", WARNING: "yellow", INFO: "cyan"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def clean(text: object) -> str:
    """Claim text on one terminal line: no escape sequences that repaint the terminal, no
    line breaks that start a forged line (a CI log reads `::command::` at a line start)."""
    value = _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", str(text))
    return "./" + value if value.startswith(":") else value


def render_text(review: Review, color: bool = False) -> str:
    lines: list[str] = []
    for report in review.files:
        if not report.findings:
            continue
        for f in report.findings:
            severity = click.style(f.severity, fg=COLORS.get(f.severity)) if color else f.severity
            hint = f" ({clean(f.hint)})" if f.hint else ""
            lines.append(f"{clean(f.path)}:{f.line}: {severity} {f.rule} {clean(f.message)}{hint}")
        lines.append("")
    lines.extend(clean(note) for note in review.notes)
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
