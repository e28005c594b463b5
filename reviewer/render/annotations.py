"""GitHub Actions output: `::error file=…,line=…::` annotations and the job summary.

Workflow commands are recognised at the start of a line only, so escaping the line breaks
(and, in properties, `:` and `,`) keeps claim text from issuing commands of its own.
"""

from __future__ import annotations

from reviewer.findings import ERROR, INFO, WARNING
from reviewer.render.safe import inline
from reviewer.review import APPROVE, Review

COMMANDS = {ERROR: "error", WARNING: "warning", INFO: "notice"}
SUMMARY_ROWS = 100


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_commands(review: Review) -> list[str]:
    """One annotation per finding, at its file and line (relative to the repository root)."""
    lines = []
    for f in review.findings:
        command = COMMANDS.get(f.severity, "error")
        where = f"file={escape_property(f.path)},line={f.line}"
        if f.column:
            where += f",col={f.column}"
        message = f.message + (f" ({f.hint})" if f.hint else "")
        lines.append(f"::{command} {where},title={escape_property(f.rule)}::"
                     f"{escape_data(message)}")
    return lines


def job_summary(review: Review, outcome: str) -> str:
    """A short markdown summary for $GITHUB_STEP_SUMMARY; `outcome` says what was posted."""
    s = review.summary()
    counts = s["by_severity"]
    if review.incomplete is not None:
        verdict = "no verdict (incomplete)"
    else:
        verdict = "APPROVE ✅" if review.verdict == APPROVE else "REQUEST_CHANGES ❌"
    lines = [f"## {inline(review.rubric.reviewer_name)}: {verdict}", "",
             f"{s.get('reviewed', 0)} claim files reviewed: {counts[ERROR]} errors, "
             f"{counts[WARNING]} warnings, {counts[INFO]} notes.", "",
             inline(outcome, 1000), ""]
    if review.incomplete is not None:
        lines += [f"> {inline(review.incomplete, 1000)}", ""]
    lines += [f"> {inline(note, 1000)}" for note in review.notes]
    findings = review.findings
    if findings:
        lines += ["", "| file | line | severity | rule | message |", "|---|---|---|---|---|"]
        for f in findings[:SUMMARY_ROWS]:
            # inline(), not code(): it escapes `|`, which would split a table cell
            lines.append(f"| {inline(f.path)} | {f.line} | {f.severity} | {inline(f.rule)} | "
                         f"{inline(f.message)} |")
        if len(findings) > SUMMARY_ROWS:
            lines.append(f"\n_{len(findings) - SUMMARY_ROWS} more findings in the review._")
    return "\n".join(lines) + "\n"
