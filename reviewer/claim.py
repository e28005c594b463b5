"""Claim: one parsed Markdown note, with line numbers for everything a finding can point at."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
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
    _links: list[Link] | None = field(default=None, repr=False)
    problems: list[Finding] = field(default_factory=list)  # parse problems, always reported
    unreadable: bool = False  # binary, or not a regular file: no check can judge its content
    kind: str = "claim"  # or the name of the rubric's document type it is reviewed as

    @property
    def links(self) -> list[Link]:
        """Wiki links of the body, found on first use: the title index never needs them."""
        if self._links is None:
            self._links = find_links(self.body, self.body_line)
        return self._links

    @links.setter
    def links(self, value: list[Link]) -> None:
        self._links = value

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
        found = (heading(line) for line in self.body.split("\n"))
        return {h[1].lower() for h in found if h is not None}

    def first_paragraph(self, limit: int = 600) -> str:
        for block in re.split(r"\n\s*\n", self.body):
            block = block.strip()
            if block and not block.startswith("#"):
                return block[:limit]
        return ""


FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
LINK = re.compile(r"(!?)\[\[([^\[\]\n]*)\]\]")


def heading(line: str) -> tuple[int, str] | None:
    """An ATX heading's level and text (up to three spaces of indent, closing hashes
    dropped); None for other lines. Plain string scanning: the obvious regular expression
    backtracks cubically on a line of many spaces, and headings come from pull requests."""
    indent = len(line) - len(line.lstrip(" "))
    if indent > 3:
        return None
    line = line[indent:]
    level = len(line) - len(line.lstrip("#"))
    if not 1 <= level <= 6 or level == len(line) or not line[level].isspace():
        return None
    text = line[level:].strip()
    bare = text.rstrip("#")
    if bare != text and (not bare or bare[-1].isspace()):
        text = bare.rstrip()
    return (level, text) if text else None


def normalize_name(name: str) -> str:
    """Case-, slug- and punctuation-insensitive form of a title or file name."""
    name = name.lower().replace("_", " ").replace("-", " ")
    name = re.sub(r"[^\w\s%]", " ", name)
    return " ".join(name.split())


def comparable(text: str) -> str:
    """Normalised words in sorted order: `fuzz.ratio` on these is a token-sort ratio
    computed once per string instead of once per pair."""
    return " ".join(sorted(normalize_name(text).split()))


def deslugify(stem: str) -> str:
    """A title from a file name: `bus-lanes-cut-delays` reads `bus lanes cut delays`."""
    if " " in stem:
        return stem
    return stem.replace("-", " ").replace("_", " ").strip()


def slugify(title: str) -> str:
    return "-".join(re.sub(r"[^\w\s-]", "", title.lower()).replace("_", " ").split())


def fenced(lines: Iterable[str]) -> Iterator[bool]:
    """For each line, whether it belongs to a fenced code block, its fences included. A
    fence closes on a line of the same character, at least as long, with nothing after."""
    fence = ""
    for line in lines:
        m = FENCE.match(line)
        mark = m.group(1) if m else ""
        if mark and not fence:
            fence = mark
            yield True
        elif (mark and mark[0] == fence[0] and len(mark) >= len(fence)
              and not line.strip()[len(mark):]):
            fence = ""
            yield True
        else:
            yield bool(fence)


def find_links(body: str, first_line: int = 1) -> list[Link]:
    """Wiki links outside fenced code blocks and inline code spans."""
    links: list[Link] = []
    lines = body.split("\n")
    for offset, (line, code) in enumerate(zip(lines, fenced(lines), strict=True)):
        if code or "[[" not in line:
            continue
        visible = INLINE_CODE.sub(lambda c: " " * len(c.group(0)), line)
        for match in LINK.finditer(visible):
            links.append(make_link(match.group(0), match.group(2), first_line + offset,
                                   match.start() + 1, bool(match.group(1))))
    return links


def make_link(raw: str, inner: str, line: int, column: int, embed: bool = False) -> Link:
    target, _, alias = inner.partition("|")
    target = target.removesuffix("\\")  # `[[note\|alias]]`: Obsidian's escape inside tables
    target, _, heading = target.partition("#")
    return Link(raw=raw, target=target.strip(), heading=heading.strip(), alias=alias.strip(),
                line=line, column=column, embed=embed)
