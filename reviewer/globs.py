"""Gitignore-style globs: `*` stays inside a folder, `**` crosses folders."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


@lru_cache(maxsize=512)
def compile_glob(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    # DOTALL: a file name may hold a newline, and `**` must still cross it
    return re.compile("".join(out) + r"\Z", re.IGNORECASE | re.DOTALL)


def matches(path: str, patterns: Iterable[str]) -> bool:
    patterns = tuple(patterns)
    return bool(patterns) and _any_of(patterns).match(path) is not None


@lru_cache(maxsize=256)
def _any_of(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for a list of globs: one match per path instead of one per glob."""
    return re.compile("|".join(f"(?:{compile_glob(p).pattern})" for p in patterns),
                      re.IGNORECASE | re.DOTALL)
