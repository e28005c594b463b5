"""The verdict-marker protocol: the one module that writes and reads markers.

A posted review ends with two hidden lines:

    <!-- claim-review-meta: {"head_sha": "...", "key": "LEO", ...} -->
    <!-- VERDICT:LEO:APPROVE -->

The marker is the body's last line, alone, outside any code block, and the only
`VERDICT:` sequence in the body; the metadata line before it names the head SHA the
verdict was made for. `render/` writes both lines through `marker` and `metadata_line`;
`gate` and `pr` read them back through `read_marker`. A reviewer key is ASCII letters,
digits, `_` and `-` (`valid_key`), so every key a rubric accepts is one the reader
matches.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from reviewer.claim import fenced

APPROVE = "APPROVE"
REQUEST_CHANGES = "REQUEST_CHANGES"
VERDICTS = (APPROVE, REQUEST_CHANGES)

_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
SHA = re.compile(r"[0-9a-f]{40}")
_MARKER = re.compile(r"<!-- VERDICT:([A-Za-z0-9_-]{1,64}):(APPROVE|REQUEST_CHANGES) -->")
_ANY_MARKER = re.compile(r"VERDICT\s*:", re.IGNORECASE)
_META = re.compile(r"<!-- claim-review-meta: (\{[^\n]*\}) -->")
KEY_RULE = "ASCII letters, digits, '-' and '_' (at most 64)"


def valid_key(key: object) -> bool:
    """The one definition of a reviewer key the marker protocol can carry."""
    return isinstance(key, str) and _KEY.fullmatch(key) is not None


def valid_sha(sha: object) -> bool:
    return isinstance(sha, str) and SHA.fullmatch(sha) is not None


def marker(key: str, verdict: str) -> str:
    if not valid_key(key) or verdict not in VERDICTS:
        raise ValueError(f"cannot write a marker for key {key!r} and verdict {verdict!r}")
    return f"<!-- VERDICT:{key}:{verdict} -->"


def metadata_line(metadata: dict[str, Any]) -> str:
    """Hidden facts about the run (head SHA, version, rubric digest) for idempotent posting.
    `--` would end the HTML comment early, so it is written as JSON escapes."""
    text = json.dumps(metadata, sort_keys=True, separators=(",", ":"))
    return "<!-- claim-review-meta: " + text.replace("--", "\\u002d\\u002d") + " -->"


def has_marker_text(text: str) -> bool:
    """Whether `text` holds anything a reader might take for a marker."""
    return _ANY_MARKER.search(text) is not None


@dataclass
class Verdict:
    """A well-formed marker read back from a body."""

    key: str
    verdict: str
    head_sha: str
    meta: dict[str, Any]


def read_marker(body: str) -> tuple[Verdict | None, str | None]:
    """(verdict, None) for a well-formed marker; (None, why not) for a malformed one;
    (None, None) when the body holds no marker at all."""
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    found = len(_ANY_MARKER.findall(body))
    if found == 0:
        return None, None
    if found > 1:
        return None, f"it holds {found} verdict markers; exactly one, the last line, counts"
    lines = body.rstrip().split("\n")
    m = _MARKER.fullmatch(lines[-1])
    if m is None:
        return None, "its verdict marker is not the last line, as written by claim-review"
    if list(fenced(lines))[-1]:  # the marker line, if a code block is still open
        return None, "its verdict marker sits inside a code block"
    meta = _meta(lines[-2]) if len(lines) > 1 else None
    head = meta.get("head_sha") if meta else None
    if meta is None or not valid_sha(head):
        return None, "no claim-review metadata (head SHA) stands next to its marker"
    if meta.get("key") not in (None, m.group(1)):
        return None, "its metadata names another reviewer key than its marker"
    return Verdict(m.group(1), m.group(2), str(head), meta), None


def read_meta(body: str) -> dict[str, Any] | None:
    """claim-review's metadata line, wherever it stands in a body (for finding our posts)."""
    for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        data = _meta(line)
        if data is not None:
            return data
    return None


def _meta(line: str) -> dict[str, Any] | None:
    m = _META.fullmatch(line)
    try:
        data = json.loads(m.group(1)) if m else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
