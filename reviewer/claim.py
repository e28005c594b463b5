"""Claim: one parsed Markdown note, with line numbers for everything a finding can point at."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from reviewer.findings import Finding


@dataclass
class Link:
    """One `[[target|alias]]` (or `![[embed]]`) occurrence."""

    raw: str
    target: str
    heading: str
    alias: str
    line: int
    column: int
    embed: bool = False


@dataclass
class Claim:
    path: str  # as shown to users: relative to the knowledge-base root when inside it
    text: str = ""
    frontmatter: dict[str, Any] | None = None
    key_lines: dict[str, int] = field(default_factory=dict)
    body: str = ""
    body_line: int = 1  # 1-based line number of the first body line
    title: str = ""
    title_line: int | None = None  # None: no H1, the title comes from the file name
    links: list[Link] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)  # parse problems, reported by schema

    @property
    def stem(self) -> str:
        name = self.path.rsplit("/", 1)[-1]
        return name[:-3] if name.lower().endswith(".md") else name

    @property
    def fm(self) -> dict[str, Any]:
        return self.frontmatter or {}

    def line_of(self, key: str) -> int:
        """The line of a top-level frontmatter key, else line 1."""
        return self.key_lines.get(key, 1)

    def field_text(self, key: str) -> str:
        value = self.fm.get(key)
        return value.strip() if isinstance(value, str) else ""

    def body_lines(self) -> list[tuple[int, str]]:
        return [(self.body_line + i, line) for i, line in enumerate(self.body.split("\n"))]

    def sections(self) -> set[str]:
        """Lower-cased text of every Markdown heading in the body."""
        return {m.group(1).strip().lower() for m in _HEADING.finditer(self.body)}

    def first_paragraph(self, limit: int = 600) -> str:
        for block in re.split(r"\n\s*\n", self.body):
            block = block.strip()
            if block and not block.startswith("#"):
                return block[:limit]
        return ""


_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def normalize_name(name: str) -> str:
    """Case-, slug- and punctuation-insensitive form of a title or file name."""
    name = name.lower().replace("_", " ").replace("-", " ")
    name = re.sub(r"[^\w\s%]", " ", name)
    return " ".join(name.split())


def comparable(text: str) -> str:
    """Normalised words in sorted order: `fuzz.ratio` on these is a token-sort ratio
    computed once per string instead of once per pair."""
    return " ".join(sorted(normalize_name(text).split()))


def slugify(title: str) -> str:
    return "-".join(re.sub(r"[^\w\s-]", "", title.lower()).replace("_", " ").split())
