"""What never leaves claim-review in anything it posts or prints: invisible characters
and strings shaped like credentials.

Invisible characters (Unicode format characters such as bidi controls, zero-width
spaces, the word joiner, the soft hyphen, the Arabic letter mark; tag characters
U+E0000-E007F; variation selectors; Hangul fillers) can carry text that people do not
see but LLM agents reading the review do. Token-shaped strings (GitHub `ghp_`, `ghs_`,
`github_pat_` ..., Anthropic `sk-ant-`) are replaced, whatever their source.
"""

from __future__ import annotations

import re

_RANGES = [(0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD),
           (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2), (0x115F, 0x1160),
           (0x180E, 0x180E), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064),
           (0x2066, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
           (0xFFA0, 0xFFA0), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD),
           (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0000, 0xE007F),
           (0xE0100, 0xE01EF)]
INVISIBLE = re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" if a != b else chr(a)
                                     for a, b in _RANGES) + "]")
TOKEN = re.compile(r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
                   r"|sk-ant-[A-Za-z0-9_-]{16,})")
REDACTED = "[redacted token]"


def scrub(text: str) -> str:
    return redact(INVISIBLE.sub("", text))


def redact(text: str) -> str:
    """Tokens only: for whole bodies whose untrusted parts are already scrubbed and whose
    own icons use variation selectors and joiners."""
    return TOKEN.sub(REDACTED, text)


def has_token(text: str) -> bool:
    return TOKEN.search(text) is not None


def scrub_all(value):
    """Every string inside a JSON-like value, scrubbed."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [scrub_all(v) for v in value]
    if isinstance(value, dict):
        return {scrub_all(k) if isinstance(k, str) else k: scrub_all(v)
                for k, v in value.items()}
    return value
