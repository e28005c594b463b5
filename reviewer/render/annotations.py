"""GitHub Actions output: `::error file=…,line=…::` annotations and the job summary.

The runner reads `::command::` at the start of a line (after leading whitespace), and the
older `##[command]` anywhere in a line. Escaping the line breaks (and, in properties, `:`
and `,`) keeps claim text inside an annotation from issuing commands of its own; `inert`
does the same for any other text printed in a workflow step (the dry run, the log).
"""

from __future__ import annotations

import re
import unicodedata

from reviewer.findings import ERROR, INFO, NEW, WARNING
from reviewer.render.parts import Display, count
from reviewer.render.safe import inline
from reviewer.review import APPROVE, Review
from reviewer.scrub import scrub

_URL = re.compile(r"https://[A-Za-z0-9.-]+(?::\d+)?/[A-Za-z0-9._~/#?=&%-]*")
COMMANDS = {ERROR: "error", WARNING: "warning", INFO: "notice"}
SUMMARY_ROWS = 100
_LINE_BREAK = re.compile(r"\r\n|[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")


def inert(text: str) -> str:
    """`text` as lines that the Actions runner never reads as workflow commands: a
    backslash goes before a `::` that begins a line (after whitespace or invisible
    characters) and into every `##[`. Markdown renders `\\:` as `:` and `\\[` as `[`, so
    a previewed review body reads the same. Any line break becomes `\\n`."""
    lines = []
    for line in _LINE_BREAK.split(text):
        line = line.replace("##[", "##\\[")
        lead = 0
        while lead < len(line) and (line[lead].isspace()
                                    or unicodedata.category(line[lead]) in ("Cc", "Cf")):
            lead += 1
        if line.startswith("::", lead):
            line = line[:lead] + "\\" + line[lead:]
        lines.append(line)
    return "\n".join(lines)


def escape_data(text: str) -> str:
    return scrub(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_commands(review: Review, display: Display | None = None) -> list[str]:
    """One annotation per new finding, at its file and line (relative to the repository
    root); findings already there before the change are in the review, not annotated."""
    display = display or Display()
    lines = []
    for f in review.findings:
        if f.status != NEW or not display.shows(f):
            continue
        command = COMMANDS.get(f.severity, "error")
        where = f"file={escape_property(display.where(f.path))},line={f.line}"
        if f.column:
            where += f",col={f.column}"
        message = f.message + (f" ({f.hint})" if f.hint else "")
        lines.append(f"::{command} {where},title={escape_property(f.rule)}::"
                     f"{escape_data(message)}")
    return lines


def render_github(review: Review, display: Display | None = None) -> str:
    """`--format github`: the annotations, then (unless quiet) the one-line summary with the
    verdict, which a workflow log shows as plain text."""
    from reviewer.render.text import render_text

    display = display or Display()
    lines = workflow_commands(review, display)
    if not display.quiet:
        summary = render_text(review, display=Display(min_severity=display.min_severity))
        lines.append(summary.rstrip("\n").rsplit("\n", 1)[-1])
    return "".join(line + "\n" for line in lines)


def job_summary(review: Review, outcome: str, url: str = "") -> str:
    """A short markdown summary for $GITHUB_STEP_SUMMARY; `outcome` says what was posted,
    `url` where (a link, so its `#` stays a fragment rather than an escaped character)."""
    s = review.summary()
    counts = s["new_by_severity"]
    if review.incomplete is not None:
        verdict = "no verdict (incomplete)"
    else:
        verdict = "APPROVE ✅" if review.verdict == APPROVE else "REQUEST_CHANGES ❌"
    lines = [f"## {inline(review.rubric.reviewer_name)}: {verdict}", "",
             f"{count(s.get('reviewed', 0), 'claim file')} reviewed: "
             f"{count(counts[ERROR], 'error')}, {count(counts[WARNING], 'warning')}, "
             f"{count(counts[INFO], 'note')}"
             + (f"; {count(s['existing'], 'finding')} already there before this change"
                if s["existing"] else "") + ".", "",
             inline(outcome, 1000) + _link(url), ""]
    if review.incomplete is not None:
        lines += [f"> {inline(review.incomplete, 1000)}", ""]
    lines += [f"> {inline(note, 1000)}" for note in review.notes]
    findings = [f for f in review.findings if f.status == NEW]
    if findings:
        lines += ["", "| file | line | severity | rule | message |", "|---|---|---|---|---|"]
        for f in findings[:SUMMARY_ROWS]:
            # inline(), not code(): it escapes `|`, which would split a table cell
            lines.append(f"| {inline(f.path)} | {f.line} | {f.severity} | {inline(f.rule)} | "
                         f"{inline(f.message)} |")
        if len(findings) > SUMMARY_ROWS:
            lines.append(f"\n_{len(findings) - SUMMARY_ROWS} more findings in the review._")
    return "\n".join(lines) + "\n"


def _link(url: str) -> str:
    """A GitHub URL as a markdown link; anything else is left out rather than escaped."""
    return f" [Open the review]({url})" if _URL.fullmatch(url or "") else ""
