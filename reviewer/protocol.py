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

Signed verdicts. With a signing key (the `CLAIM_REVIEW_SIGNING_KEY` secret), `seal` adds
`"signed_at"` (UTC, to the second) and `"sig"` to the metadata: an HMAC-SHA256, under that
key, over the head SHA, the reviewer key, the verdict, the SHA-256 digest of the body the
marker ends (the text before the metadata line, with line endings normalised and trailing
whitespace stripped) and the signing time. Whoever edits the body, the marker or the
metadata, or writes a marker without the key, cannot produce a matching signature;
`read_marker(body, key)` checks it in constant time. The signing time lets `gate` tell a
verdict from a later copy of it (`gate.read_post`).

Superseded verdicts. `supersede` turns a posted verdict into plain text: the metadata and
marker lines are replaced by a visible line naming the post that replaced it, so the old
verdict can never count again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
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
SIGNING_KEY_ENV = "CLAIM_REVIEW_SIGNING_KEY"
SIGNING_KEY_MIN = 32  # characters: a signature is public, so a short key could be guessed
_SIG = re.compile(r"[0-9a-f]{64}")
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
STAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
SIG_CHARS = len(',"sig":""') + 64 + len(',"signed_at":""') + 20  # what signing adds


class SigningKeyError(ValueError):
    """A signing key that cannot be used (too short)."""


def signing_key(env: Mapping[str, str]) -> bytes | None:
    """The key from CLAIM_REVIEW_SIGNING_KEY (surrounding whitespace ignored); None when
    unset or empty. SigningKeyError for a key too short to resist guessing."""
    text = (env.get(SIGNING_KEY_ENV) or "").strip()
    if not text:
        return None
    if len(text) < SIGNING_KEY_MIN:
        raise SigningKeyError(f"{SIGNING_KEY_ENV} is {len(text)} characters long; use at least "
                              f"{SIGNING_KEY_MIN} random ones (for example the output of "
                              "`openssl rand -hex 32`)")
    return text.encode("utf-8")


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


def body_digest(text: str) -> str:
    """SHA-256 of the body a marker ends: line endings normalised, trailing whitespace of
    each line and of the whole stripped (GitHub may store `\\r\\n` for `\\n`)."""
    lines = _lines(text)
    canonical = "\n".join(line.rstrip() for line in lines).rstrip()
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def signature(signing_key: bytes, head_sha: str, key: str, verdict: str, digest: str,
              signed_at: str) -> str:
    """HMAC-SHA256 over what a verdict asserts and when it was signed. None of the parts
    holds a newline (SHA and digest are hex, key, verdict and time are checked), so the
    message is unambiguous."""
    message = "\n".join(("claim-review verdict v1", head_sha, key, verdict, digest,
                         signed_at))
    return hmac.new(signing_key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def seal(body: str, signing_key: bytes, now: datetime | None = None) -> str:
    """`body`, written by `render`, with the signing time and the signature added to its
    metadata line. A body without a well-formed marker (an incomplete review) is returned
    unchanged."""
    found, _problem = read_marker(body)
    if found is None:
        return body
    lines = _lines(body.rstrip())
    text = "\n".join(lines[:-2])
    meta = {k: v for k, v in found.meta.items() if k not in ("sig", "signed_at")}
    meta["signed_at"] = (now or datetime.now(timezone.utc)).astimezone(timezone.utc) \
        .strftime(STAMP_FORMAT)
    meta["sig"] = signature(signing_key, found.head_sha, found.key, found.verdict,
                            body_digest(text), meta["signed_at"])
    return "\n".join([text, metadata_line(meta), lines[-1]]) + "\n"


def supersede(body: str, by: str) -> str:
    """The body of a verdict that no longer counts: its metadata and marker lines become a
    visible line saying which post replaced it. `by` names that post (ours, from GitHub)."""
    lines = _lines(body.rstrip())
    kept = [line for line in lines if _META.fullmatch(line) is None
            and _ANY_MARKER.search(line) is None]
    while kept and not kept[-1].strip():
        kept.pop()
    note = f"_Superseded by {_ANY_MARKER.sub('', by)}: this verdict no longer counts._"
    return "\n".join([*kept, "", note]) + "\n"


@dataclass
class Verdict:
    """A well-formed marker read back from a body."""

    key: str
    verdict: str
    head_sha: str
    meta: dict[str, Any]
    signed_at: datetime | None = None  # set when its signature was checked and matched


def read_marker(body: str, signing_key: bytes | None = None
                ) -> tuple[Verdict | None, str | None]:
    """(verdict, None) for a well-formed marker; (None, why not) for a malformed one;
    (None, None) when the body holds no marker at all. With `signing_key`, a marker counts
    only with a matching signature over this very body."""
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
    verdict = Verdict(m.group(1), m.group(2), str(head), meta)
    if signing_key is None:
        return verdict, None
    sig, stamp = meta.get("sig"), meta.get("signed_at")
    if not isinstance(sig, str) or _SIG.fullmatch(sig) is None or not isinstance(stamp, str) \
            or _STAMP.fullmatch(stamp) is None:
        return None, (f"it is not signed, and a signing key ({SIGNING_KEY_ENV}) is "
                      "configured")
    expected = signature(signing_key, verdict.head_sha, verdict.key, verdict.verdict,
                         body_digest("\n".join(lines[:-2])), stamp)
    if not hmac.compare_digest(expected, sig):
        return None, ("its signature does not match: the body, marker or metadata was "
                      "altered, or it was written without the signing key")
    try:
        verdict.signed_at = datetime.strptime(stamp, STAMP_FORMAT).replace(
            tzinfo=timezone.utc)
    except ValueError:  # a signed but impossible date (month 13): we never write one
        return None, "its signing time is not a date"
    return verdict, None


def read_meta(body: str) -> dict[str, Any] | None:
    """claim-review's metadata line, wherever it stands in a body (for finding our posts)."""
    for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        data = _meta(line)
        if data is not None:
            return data
    return None


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _meta(line: str) -> dict[str, Any] | None:
    m = _META.fullmatch(line)
    try:
        data = json.loads(m.group(1)) if m else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
