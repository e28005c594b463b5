"""Make untrusted text (claim content, judge output) inert inside a GitHub markdown body."""

from __future__ import annotations

import re

from reviewer.scrub import scrub

_MARKDOWN = re.compile(r"([\\`*_\[\]{}|~!#])")
_MARKER = re.compile(r"verdict\s*:", re.IGNORECASE)
_MENTION = re.compile(r"@(?=[\w-])")


def inline(text: object, limit: int = 300) -> str:
    """Text safe to place inside a sentence: no HTML, no markers, no mentions, no markup."""
    value = " ".join(scrub(str(text)).split())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _MARKDOWN.sub(r"\\\1", value)
    value = _MARKER.sub(lambda m: m.group(0)[:-1] + "&#58;", value)
    return _MENTION.sub("&#64;", value)


def code(text: object, limit: int = 200) -> str:
    """A path or value shown as code; falls back to escaped text when it holds backticks."""
    value = " ".join(scrub(str(text)).split())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    if "`" in value or _MARKER.search(value) or "<" in value or "@" in value:
        return inline(value, limit)
    return f"`{value}`"
