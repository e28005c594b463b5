"""The review body as posted on a pull request; the verdict marker is its last line."""

from __future__ import annotations

from collections.abc import Callable

from reviewer import __version__
from reviewer.checks import checks_for
from reviewer.findings import ERROR, INFO, RANK, WARNING, Finding
from reviewer.protocol import SIG_CHARS, marker, metadata_line, seal
from reviewer.render.parts import ICONS, count, usage_line
from reviewer.render.safe import code, inline
from reviewer.review import APPROVE, Review
from reviewer.scrub import redact

LIST_PASSING_UP_TO = 10


def render_markdown(review: Review, max_chars: int | None = None,
                    metadata: dict | None = None, signing_key: bytes | None = None,
                    shows: Callable[[Finding], bool] | None = None) -> str:
    """The review body. With `review.incomplete` set it carries no verdict marker at all.
    `shows` leaves findings out of the lists (`--min-severity`); the counts stay whole.
    With `signing_key` (and `metadata`), the metadata line carries the verdict's signature
    (`protocol.seal`), within `max_chars` too."""
    sign = signing_key is not None and metadata is not None and review.incomplete is None
    if sign and max_chars is not None:
        max_chars -= SIG_CHARS
    head = _header(review)
    shows = shows or (lambda _finding: True)
    sections = [_section(i, module, review, shows)
                for i, module in enumerate(checks_for(review.rubric), start=1)]
    sections += _before_the_change(review, shows)
    tail = [_footer(review), ""]
    if metadata is not None:
        tail.append(metadata_line(metadata))
    if review.incomplete is None:
        tail.append(marker(review.rubric.reviewer_key, review.verdict))
    body = "\n".join([*head, *sections, *tail])
    if max_chars is not None and len(body) > max_chars:
        body = _shrink(review, head, tail, max_chars)
    if max_chars is not None and len(body) + 1 > max_chars:
        body = _too_long(review, tail[2:])  # the header alone is too long: keep the marker
    body = redact(body) + "\n"
    return seal(body, signing_key) if sign else body


def _header(review: Review) -> list[str]:
    s = review.summary()
    counts = s["new_by_severity"]
    verdict = "approved ✅" if review.verdict == APPROVE else "changes requested ❌"
    if review.incomplete is not None:
        verdict = "incomplete, no verdict ⛔"
    extra = ""
    if s.get("skipped"):
        extra += f", {count(s['skipped'], 'non-claim file')} skipped"
    if s.get("deleted"):
        extra += f", {s['deleted']} deleted"
    if s.get("ignored"):
        extra += f", {count(s['ignored'], 'path')} ignored (files.ignore)"
    if s.get("unreviewed"):
        extra += f", **{count(s['unreviewed'], 'path')} unreviewed**"
    lines = [f"## {inline(review.rubric.reviewer_name)} review: {verdict}", "",
             f"Reviewed **{count(s['reviewed'], 'claim file')}**{extra}: "
             f"**{count(counts[ERROR], 'error')}**, {count(counts[WARNING], 'warning')}, "
             f"{count(counts[INFO], 'note')}." + _status_counts(s, review)]
    if review.incomplete is not None:
        lines.append(f"\n> **This review is incomplete:** {inline(review.incomplete, 1000)}")
    lines.extend(f"\n> {inline(note, 1000)}" for note in review.notes)
    return [*lines, ""]


def _status_counts(s: dict, review: Review) -> str:
    parts = []
    if s["existing"]:
        blocking = "blocking" if review.rubric.verdict.count == "all" else "not blocking"
        parts.append(f"{count(s['existing'], 'finding')} already there before this change "
                     f"({blocking})")
    if s["fixed"]:
        parts.append(f"{s['fixed']} fixed by it")
    if s["suppressed"]:
        parts.append(f"{s['suppressed']} suppressed by comments in the notes")
    return (" " + "; ".join(parts) + ".") if parts else ""


def _before_the_change(review: Review, shows: Callable[[Finding], bool]) -> list[str]:
    """Findings already there (collapsed; never inline comments), what the change fixed,
    what comments suppressed, and baseline entries that no longer match."""
    out = []
    existing = [f for report in review.files for f in report.existing if shows(f)]
    if existing:
        blocking = "blocking (verdict.count: all)" if review.rubric.verdict.count == "all" \
            else "not blocking"
        out += _details(f"Already there before this change: {len(existing)}; {blocking}",
                        [f"- {code(f.path)} " + finding_text(f) for f in existing])
    fixed = [f for report in review.files for f in report.fixed]
    if fixed:
        out += [f"**Fixed by this change: {len(fixed)}**", ""]
        out += [f"- ✅ {code(report.path)} {code(f.rule)}: {inline(f.message)}"
                for report in review.files for f in report.fixed]
        out.append("")
    suppressed = [f for report in review.files for f in report.suppressed]
    if suppressed:
        out += _details(f"Suppressed by comments in the notes: {len(suppressed)}",
                        [f"- {code(f.path)} " + finding_text(f) + " Reason: "
                         + inline(f.extras.get("suppressed_by", "")) for f in suppressed])
    if review.rubric_impact:
        out += _details("What this change to the rubric does to the whole knowledge base",
                        [review.rubric_impact])
    if review.impact:
        out += ["**To re-examine: notes that rely on what this change weakens**", ""]
        for item in review.impact:
            shown = ", ".join(code(p) for p in item.dependents[:10])
            more = f" and {len(item.dependents) - 10} more" if len(item.dependents) > 10 else ""
            out.append(f"- {code(item.path)}: {inline(item.why)}; relied on by {shown}{more}")
        out.append("")
    if review.stale_baseline:
        stale = len(review.stale_baseline)
        out += [f"_{count(stale, 'baseline entry')} no longer "
                f"{'matches' if stale == 1 else 'match'} any finding; "
                "`claim-review baseline --prune` drops them._", ""]
    return out


def _details(summary: str, lines: list[str]) -> list[str]:
    return ["<details>", f"<summary>{inline(summary)}</summary>", "", *lines, "",
            "</details>", ""]


def _section(number: int, module, review: Review, shows: Callable[[Finding], bool]) -> str:
    lines = [f"### {number}. {module.TITLE}", ""]
    if not review.rubric.check_enabled(module.ID):
        return "\n".join([*lines, "_Disabled by the rubric._", ""])
    passed = []
    for report in review.files:
        found = [f for f in report.new if f.check == module.ID and shows(f)]
        if not found:
            if report.claim is not None:
                passed.append(report.path)
            continue
        worst = max(found, key=lambda f: RANK[f.severity]).severity
        lines.append(f"- {ICONS[worst]} {code(report.path)}")
        lines.extend("  - " + finding_text(f) for f in found)
    lines.extend(_passed(passed))
    lines.extend(_judge_notes(module.ID, review))
    return "\n".join([*lines, ""])


def finding_text(f: Finding, line: bool = True) -> str:
    """One finding in markdown, for the review body and for inline comments alike."""
    where = f" (line {f.line})" if line else ""
    hint = f" Fix: {inline(f.hint)}" if f.hint else ""
    if hint and not hint.endswith(("?", ".", "!")):
        hint += "."
    return f"**{f.severity}** {code(f.rule)}{where}: {inline(f.message)}.{hint}"


def _passed(paths: list[str]) -> list[str]:
    if not paths:
        return []
    if len(paths) <= LIST_PASSING_UP_TO:
        return [f"- ✅ {code(p)} passed" for p in paths]
    return [f"- ✅ {len(paths)} files passed"]


def _judge_notes(check_id: str, review: Review) -> list[str]:
    """The judge's reasoning on this check's criterion, or on each of its own criteria
    (`custom.<name>`; see reviewer/judge.py). A failure it turned into a finding is listed
    above with its rationale; here it only shows its quote."""
    notes = []
    for criterion, found in (review.judge.notes.items() if review.judge else ()):
        if criterion == check_id or criterion.startswith(check_id + "."):
            own = "" if criterion == check_id else f" on {code(criterion)}"
            notes += [(own, note) for note in found]
    lines = []
    for own, note in notes:
        head = (f"- 🧑‍⚖️ {code(note['path'])} judge{own}: "
                f"**{inline(note.get('verdict', ''))}**")
        quote = f"“{inline(note['quote'], 200)}”" if note.get("quote") else ""
        if note.get("finding"):
            lines.append(f"{head}, resting on {quote or 'no quote'} "
                         f"(finding {code(note['finding'])} above)")
        else:
            lines.append(f"{head}: {inline(note.get('rationale', ''), 500)}"
                         + (f" On {quote}." if quote else ""))
    return lines


def _footer(review: Review) -> str:
    parts = [f"claim-review {__version__}", f"rubric {review.rubric.digest()}"]
    account = usage_line(review.judge, review.notes)
    if account:
        parts.append(inline(account, 1000))
    return "---\n<sub>" + " · ".join(parts) + "</sub>"


def _too_long(review: Review, tail: list[str]) -> str:
    counts = review.summary()["by_severity"]
    return "\n".join([f"## {inline(review.rubric.reviewer_name)} review", "",
                      f"The review is too long to post ({len(review.findings)} findings, "
                      f"{counts[ERROR]} errors); run `claim-review diff` locally for the full "
                      "list.", "", *tail])


def _shrink(review: Review, head: list[str], tail: list[str], max_chars: int) -> str:
    """Keep the new errors and the marker; summarise the rest."""
    budget = max_chars - len("\n".join(head + tail)) - 400
    lines, omitted = ["### Errors", ""], 0
    for f in [f for report in review.files for f in report.new]:
        line = f"- {code(f.path)} " + finding_text(f)
        if f.severity == ERROR and budget - len(line) > 0:
            lines.append(line)
            budget -= len(line) + 1
        else:
            omitted += 1
    omitted += sum(len(report.existing) for report in review.files)
    lines += ["", f"_{omitted} more findings omitted; run `claim-review diff` locally "
                  "for the full list._", ""]
    return "\n".join([*head, *lines, *tail])
