"""`claim-review fix`: apply on disk the certain fixes that `pr` offers as suggestions.

The fixes come from the checks' `fix` hooks through `inline.line_fixes`, the machinery
that builds the pull request's suggestion blocks, so `fix` can change nothing that a
suggestion would not. Only the fixed lines change: every other byte of the file (line
endings, a byte-order mark, trailing whitespace, a missing final newline) is written back
as it was read. A file whose lines do not read back exactly as the review saw them (not
UTF-8, say) is left alone, and so is a file that changed on disk since it was reviewed.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from reviewer.atomic import write_atomic
from reviewer.inline import line_fixes
from reviewer.kb import ReviewContext
from reviewer.review import Review
from reviewer.sources import read_regular

BOM = b"\xef\xbb\xbf"
_BREAK = re.compile(r"(\r\n|\r|\n)")  # the line breaks parsing turns into "\n", in its order


@dataclass
class FileFix:
    path: str  # as the review shows it
    file: Path  # on disk
    before: bytes
    after: bytes
    lines: list[int] = field(default_factory=list)

    def diff(self) -> str:
        """A unified diff of the fix (line endings left out, so a CRLF file reads well)."""
        old = _split(self.before)
        new = _split(self.after)
        assert old is not None and new is not None
        lines = difflib.unified_diff(old[1], new[1], f"a/{self.path}", f"b/{self.path}",
                                     lineterm="")
        return "".join(line + "\n" for line in lines)


def plan(review: Review, ctx: ReviewContext, root: Path) -> list[FileFix]:
    """Every file of the review that has certain fixes, with its bytes before and after."""
    fixes = []
    for report in review.files:
        if report.claim is None or report.claim.unreadable:
            continue
        changed = line_fixes(report.claim, report.findings, ctx)
        if not changed:
            continue
        file = _on_disk(report.path, root)
        try:
            before = read_regular(file)
        except OSError:
            continue
        after = _apply(before, report.claim.text.split("\n"), changed)
        if after is not None and after != before:
            fixes.append(FileFix(report.path, file, before, after, sorted(changed)))
    return fixes


def write(fix: FileFix) -> bool:
    """Write one file's fix; False (and nothing written) if the file changed meanwhile."""
    try:
        if read_regular(fix.file) != fix.before:
            return False
    except OSError:
        return False
    write_atomic(fix.file, fix.after)
    return True


def _on_disk(path: str, root: Path) -> Path:
    """A note of the base is shown relative to its root; any other file relative to the
    current folder, or absolute."""
    inside = root / path
    return inside if inside.exists() or Path(path).is_absolute() else Path(path)


def _split(data: bytes) -> tuple[bytes, list[str], list[str]] | None:
    """(byte-order mark, lines, their line breaks); None when the bytes are not UTF-8."""
    bom = BOM if data.startswith(BOM) else b""
    try:
        text = data[len(bom):].decode("utf-8")
    except UnicodeDecodeError:
        return None
    parts = _BREAK.split(text)
    return bom, parts[0::2], parts[1::2] + [""]


def _apply(data: bytes, seen: list[str], changed: dict[int, str]) -> bytes | None:
    """`data` with the changed lines replaced, each keeping its own line break; None when
    a line to change does not read exactly as the review saw it."""
    split = _split(data)
    if split is None:
        return None
    bom, lines, breaks = split
    for number, text in changed.items():
        index = number - 1
        if not 0 <= index < len(lines) or index >= len(seen) or lines[index] != seen[index] \
                or _BREAK.search(text):
            return None
        lines[index] = text
    return bom + "".join(line + end for line, end in zip(lines, breaks, strict=True)).encode(
        "utf-8")
