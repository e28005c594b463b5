"""Terminal output: one header per file, then `line: severity rule message (hint)`; at the
end a count per rule and the verdict. Coloured on a TTY. Existing findings (already there
before the change, or in the baseline) are marked, and hidden with `new_only`."""

from __future__ import annotations

import re
from collections import Counter

import click

from reviewer.findings import ERROR, INFO, NEW, WARNING, Finding
from reviewer.render.parts import Display, count, usage_line
from reviewer.review import APPROVE, Review
from reviewer.scrub import scrub

COLORS = {ERROR: "red", WARNING: "yellow", INFO: "cyan"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def clean(text: object) -> str:
    """Claim text on one terminal line: no escape sequences that repaint the terminal, no
    line breaks that start a forged line (a CI log reads `::command::` at a line start)."""
    value = _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", scrub(str(text)))
    return "./" + value if value.startswith(":") else value


def render_text(review: Review, color: bool = False, new_only: bool = False,
                display: Display | None = None) -> str:
    """Each file's path once, as a header, then its findings without the path: a long
    file name costs one line, not one per finding. `display.quiet`: the findings only,
    and nothing at all when none is shown."""
    display = display or Display(color=color, new_only=new_only)
    color = display.color
    lines: list[str] = []
    shown = [(report, [f for f in report.findings if display.shows(f)
                       and (not display.new_only or f.status == NEW)])
             for report in review.files]
    for report, findings in shown:
        if findings:
            lines.append(_style(clean(report.path), color, bold=True))
            width = len(str(max(f.line for f in findings)))
            lines.extend(_finding(f, width, color) for f in findings)
            lines.append("")
    if display.quiet:
        return "\n".join(lines[:-1]) + "\n" if lines else ""
    lines.extend(_rule_table([f for _r, found in shown for f in found]))
    lines.extend(_fixed_and_stale(review))
    lines.extend(clean(note) for note in review.notes)
    account = usage_line(review.judge, review.notes)
    if account:
        lines.append(account)
    lines.append(_summary(review, color, display.hidden(review.findings), display.min_severity))
    return "\n".join(lines) + "\n"


def _finding(f: Finding, width: int, color: bool) -> str:
    severity = _style(f.severity, color, fg=COLORS.get(f.severity))
    hint = f" ({clean(f.hint)})" if f.hint else ""
    mark = "" if f.status == NEW else " [existing]"
    return f"  {f.line:>{width}}: {severity} {f.rule} {clean(f.message)}{hint}{mark}"


def _rule_table(findings: list[Finding]) -> list[str]:
    if not findings:
        return []
    new = Counter(f.rule for f in findings if f.status == NEW)
    existing = Counter(f.rule for f in findings if f.status != NEW)
    rules = sorted(set(new) | set(existing), key=lambda r: (-new[r] - existing[r], r))
    width = max(len(r) for r in rules)
    lines = [f"{'rule':<{width}}  new  existing"]
    lines += [f"{r:<{width}}  {new[r]:>3}  {existing[r]:>8}" for r in rules]
    return [*lines, ""]


def _fixed_and_stale(review: Review) -> list[str]:
    lines = []
    for report in review.files:
        lines += [f"fixed: {clean(report.path)}:{f.line}: {f.rule} {clean(f.message)}"
                  for f in report.fixed]
    for item in review.impact:
        lines.append(f"re-examine: {clean(item.path)}: {clean(item.why)}; relied on by "
                     + ", ".join(clean(p) for p in item.dependents))
    if review.stale_baseline:
        stale = len(review.stale_baseline)
        lines.append(f"{count(stale, 'baseline entry')} no longer "
                     f"{'matches' if stale == 1 else 'match'} any finding; "
                     "`claim-review baseline --prune` drops "
                     f"{'it' if stale == 1 else 'them'}:")
        lines += [f"  stale: {clean(e['path'])}: {e['rule']} {clean(e['subject'])}"
                  for e in review.stale_baseline]
    return [*lines, ""] if lines else []


def _style(text: str, color: bool, **style) -> str:
    return click.style(text, **style) if color else text


def _summary(review: Review, color: bool, hidden: int = 0, level: str = INFO) -> str:
    s = review.summary()
    counts = s["new_by_severity"]
    extra = "".join(f", {s[k]} {label}" for k, label in
                    (("skipped", "skipped (not claims)"), ("deleted", "deleted"),
                     ("ignored", "ignored (files.ignore)"), ("unreviewed", "unreviewed"))
                    if s.get(k))
    status = "".join(f", {s[k]} {label}" for k, label in
                     (("existing", "existing (not blocking)" if review.rubric.verdict.count
                       == "new" else "existing (blocking: verdict.count is all)"),
                      ("fixed", "fixed"), ("suppressed", "suppressed")) if s.get(k))
    if hidden:
        status += f", {hidden} below {level} not shown"
    verdict = review.verdict if review.incomplete is None else \
        f"none, the review is incomplete: {review.incomplete}"
    if color:
        verdict = click.style(verdict, fg="green" if verdict == APPROVE else "red", bold=True)
    return (f"{count(s['reviewed'], 'claim')} reviewed{extra}: {count(counts[ERROR], 'error')}, "
            f"{count(counts[WARNING], 'warning')}, {counts[INFO]} info{status}. "
            f"Verdict: {verdict}")
