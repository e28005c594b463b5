"""Inline review comments: findings on lines the pull request changed, with certain fixes.

GitHub refuses a review whose comments point outside the diff (422), so only lines the
change added are commented; everything else stays in the review body, which lists every
finding anyway. A ```suggestion block is offered only where the fix is mechanical and
certain: a broken link with one clear best match, an enum value with one closest valid
value. A line holding anything that could escape the block or the body (backticks, HTML,
mentions, the word "verdict") gets no suggestion at all.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Any

from reviewer.checks import check_of
from reviewer.claim import Claim
from reviewer.findings import INFO, NEW, RANK, Finding
from reviewer.kb import ReviewContext
from reviewer.render.markdown import finding_text
from reviewer.render.parts import ICONS
from reviewer.review import Review
from reviewer.scrub import redact, scrub
from reviewer.sources import git

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_UNSAFE = re.compile(r"[`<>@\r\\]|verdict|-->|<!--", re.IGNORECASE)


def changed_lines(repo: Path, merge_base: str, head: str) -> dict[str, set[int]]:
    """Head-side line numbers each file gained between the merge-base and `head`."""
    out = git(repo, "-c", "core.quotePath=false", "diff", "-U0", "-M", "--no-color",
              "--no-ext-diff", "--no-textconv", "--src-prefix=a/", "--dst-prefix=b/",
              merge_base, head)
    lines: dict[str, set[int]] = {}
    current: set[int] | None = None
    for raw in out.decode("utf-8", "replace").split("\n"):
        if raw.startswith("+++ "):
            name = _unquote(raw[4:])
            current = None if name == "/dev/null" else lines.setdefault(name[2:], set())
        elif raw.startswith("@@") and current is not None:
            m = _HUNK.match(raw)
            if m:
                start, count = int(m.group(1)), int(m.group(2) or 1)
                current.update(range(start, start + count))
    return lines


def _unquote(name: str) -> str:
    """git writes names with quotes, backslashes or control characters C-quoted."""
    name = name.rstrip("\t")
    if len(name) >= 2 and name[0] == name[-1] == '"':
        raw = codecs.escape_decode(name[1:-1].encode("utf-8"))[0]
        return raw.decode("utf-8", "replace")
    return name


def review_comments(review: Review, ctx: ReviewContext, lines: dict[str, set[int]],
                    limit: int, suggestions: bool) -> list[dict[str, Any]]:
    """One comment per commented line, errors first when there are more than `limit`.
    Notes (info) stay in the body: on a line of the diff they would read as objections."""
    by_line: dict[tuple[str, int], list[Finding]] = {}
    for finding in review.findings:  # only what the change introduces: old findings stay
        if finding.status != NEW or finding.severity == INFO:  # in the body's collapsed list
            continue
        if finding.line in lines.get(finding.path, ()):
            by_line.setdefault((finding.path, finding.line), []).append(finding)
    order = sorted(by_line, key=lambda k: (-max(RANK[f.severity] for f in by_line[k]), k))
    claims = {r.path: r.claim for r in review.files if r.claim is not None}
    comments = []
    for path, line in sorted(order[:max(limit, 0)]):
        found = by_line[(path, line)]
        fixed = fixed_line(claims.get(path), line, found, ctx) if suggestions else None
        comments.append({"path": path, "line": line, "side": "RIGHT",
                         "body": comment_body(found, fixed)})
    return comments


def comment_body(found: list[Finding], fixed: str | None) -> str:
    lines = [f"{ICONS.get(f.severity, '')} {finding_text(f, line=False)}" for f in found]
    if fixed is not None:
        lines += ["", "```suggestion", fixed, "```"]
    return redact("\n".join(lines))


def line_fixes(claim: Claim, findings: list[Finding], ctx: ReviewContext) -> dict[int, str]:
    """Line number -> the line with every certain fix of its findings applied: what `pr`
    would offer as suggestions if every line were in the diff, for `claim-review fix`.
    Line endings are the caller's to keep (`fix` writes each line back with its own)."""
    by_line: dict[int, list[Finding]] = {}
    for finding in findings:
        by_line.setdefault(finding.line, []).append(finding)
    fixed = {line: fixed_line(claim, line, found, ctx, endings_kept=True)
             for line, found in sorted(by_line.items())}
    return {line: text for line, text in fixed.items() if text is not None}


def fixed_line(claim: Claim | None, line: int, found: list[Finding], ctx: ReviewContext,
               endings_kept: bool = False) -> str | None:
    """The line with every certain fix applied, or None when there is none. A suggestion
    block cannot keep a CRLF ending, so a file holding CR gets none, unless the caller
    keeps the line endings itself (`endings_kept`)."""
    if claim is None or (not endings_kept and _has_cr(claim.path, ctx)):
        return None
    text_lines = claim.text.split("\n")
    if not 1 <= line <= len(text_lines):
        return None
    original = text_lines[line - 1]
    if _UNSAFE.search(original):
        return None
    fixed = original
    for f in found:
        fixed = _fix(f, fixed, claim, ctx) or fixed
    if fixed == original or _UNSAFE.search(fixed) or scrub(fixed) != fixed:
        return None  # a suggestion must commit exactly what it shows
    return fixed


def _has_cr(path: str, ctx: ReviewContext) -> bool:
    """Parsing turns CRLF into LF; a suggestion would silently change the line ending."""
    try:
        return b"\r" in ctx.kb.source.read(path)
    except (OSError, KeyError):
        return True


def _fix(f: Finding, text: str, claim: Claim, ctx: ReviewContext) -> str | None:
    """The finding's check offers the fix through its `fix` hook, if it has one."""
    module = check_of(f.check, ctx.rubric)
    fix = getattr(module, "fix", None)
    if fix is None or not ctx.rubric.check_enabled(f.check):
        return None
    return fix(f, text, claim, ctx, ctx.rubric.options(f.check))
