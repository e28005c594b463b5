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

from rapidfuzz import fuzz, process

from reviewer.claim import Claim, comparable
from reviewer.engine import Review
from reviewer.findings import ERROR, INFO, WARNING, Finding
from reviewer.kb import OK, ReviewContext
from reviewer.render.safe import code, inline
from reviewer.sources import git

LINK_CERTAIN = 85  # least similarity of a broken link target to its single suggestion
ENUM_CERTAIN = 80  # least similarity of an enum value to its closest allowed value ...
ENUM_MARGIN = 20  # ... which must beat the runner-up by this much
ICONS = {ERROR: "❌", WARNING: "⚠️", INFO: "ℹ️"}
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
    for finding in review.findings:
        if finding.severity != INFO and finding.line in lines.get(finding.path, ()):
            by_line.setdefault((finding.path, finding.line), []).append(finding)
    order = sorted(by_line, key=lambda k: (min(_rank(f) for f in by_line[k]), k))
    claims = {r.path: r.claim for r in review.files if r.claim is not None}
    comments = []
    for path, line in sorted(order[:max(limit, 0)]):
        found = by_line[(path, line)]
        fixed = _fixed_line(claims.get(path), line, found, ctx) if suggestions else None
        comments.append({"path": path, "line": line, "side": "RIGHT",
                         "body": comment_body(found, fixed)})
    return comments


def _rank(f: Finding) -> int:
    return {ERROR: 0, WARNING: 1, INFO: 2}.get(f.severity, 0)


def comment_body(found: list[Finding], fixed: str | None) -> str:
    lines = []
    for f in found:
        hint = f" Fix: {inline(f.hint)}" if f.hint else ""
        hint += "." if hint and not hint.endswith(("?", ".", "!")) else ""
        lines.append(f"{ICONS.get(f.severity, '')} **{f.severity}** {code(f.rule)}: "
                     f"{inline(f.message)}.{hint}")
    if fixed is not None:
        lines += ["", "```suggestion", fixed, "```"]
    return "\n".join(lines)


def _fixed_line(claim: Claim | None, line: int, found: list[Finding],
                ctx: ReviewContext) -> str | None:
    """The line with every certain fix applied, or None when there is none."""
    if claim is None or _has_cr(claim.path, ctx):
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
    if fixed == original or _UNSAFE.search(fixed):
        return None
    return fixed


def _has_cr(path: str, ctx: ReviewContext) -> bool:
    """Parsing turns CRLF into LF; a suggestion would silently change the line ending."""
    try:
        return b"\r" in ctx.kb.source.read(path)
    except (OSError, KeyError):
        return True


def _fix(f: Finding, text: str, claim: Claim, ctx: ReviewContext) -> str | None:
    if f.rule == "wiki_links.broken-link":
        return _fix_link(f, text, claim, ctx)
    if f.rule in ("schema.invalid-domain", "schema.invalid-confidence"):
        return _fix_enum(f, text, ctx)
    return None


def _fix_link(f: Finding, text: str, claim: Claim, ctx: ReviewContext) -> str | None:
    target, options = f.extras.get("target"), f.extras.get("suggestions") or []
    if not isinstance(target, str) or not target or len(options) != 1:
        return None
    best = str(options[0])
    if fuzz.ratio(comparable(target.rsplit("/", 1)[-1]), comparable(best)) < LINK_CERTAIN:
        return None
    if ctx.kb.resolve(best, claim.path).status != OK:
        return None
    pattern = re.compile(r"\[\[\s*" + re.escape(target) + r"\s*(?=[\]|#])")
    if len(pattern.findall(text)) != 1:
        return None
    return pattern.sub(lambda _m: "[[" + best, text)


def _fix_enum(f: Finding, text: str, ctx: ReviewContext) -> str | None:
    name, value, best = f.extras.get("field"), f.extras.get("value"), f.extras.get("suggestion")
    if not all(isinstance(v, str) and v for v in (name, value, best)):
        return None
    allowed = [str(a) for a in ctx.rubric.schema.get("domains" if name == "domain" else name)
               or []]
    if allowed:  # a closest value must be clearly closest; a slug fix is always mechanical
        scores = process.extract(value.lower(), allowed, limit=2)
        runner_up = scores[1][1] if len(scores) > 1 else 0
        if scores[0][0] != best or scores[0][1] < ENUM_CERTAIN \
                or scores[0][1] - runner_up < ENUM_MARGIN:
            return None
    pattern = re.compile(r"^(\s*" + re.escape(name) + r"\s*:\s*)([\"']?)" + re.escape(value)
                         + r"\2(\s*(?:#.*)?)$")
    m = pattern.match(text)
    if m is None:
        return None
    return f"{m.group(1)}{m.group(2)}{best}{m.group(2)}{m.group(3)}"
