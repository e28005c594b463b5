"""bytes -> Claim. Bad content becomes findings (reported by the schema check), never exceptions."""

from __future__ import annotations

import re
from typing import Any

import yaml

from reviewer.claim import Claim, Link
from reviewer.findings import ERROR, Finding

try:  # the C loader is several times faster; fall back when libyaml is absent
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader

MAX_BYTES = 2_000_000
MAX_YAML_NODES = 20_000  # expanded node count; aliases make a tiny text explode past this

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
_LINK = re.compile(r"(!?)\[\[([^\[\]\n]*)\]\]")
_H1 = re.compile(r"^#\s+(.+?)\s*#*\s*$")


def problem(path: str, rule: str, line: int, message: str, hint: str) -> Finding:
    return Finding("schema", f"schema.{rule}", ERROR, path, line, message, hint)


def parse_claim(path: str, data: bytes, max_bytes: int = MAX_BYTES) -> Claim:
    claim = Claim(path=path)
    if len(data) > max_bytes:
        claim.problems.append(problem(
            path, "file-too-large", 1,
            f"file is {len(data):,} bytes, over the {max_bytes:,}-byte limit for a claim",
            "split it into several claims or move bulk data out of the knowledge base"))
        data = data[:max_bytes]
    if b"\x00" in data[:8192]:
        claim.problems.append(problem(
            path, "binary-file", 1, "file contains NUL bytes: it is binary, not Markdown",
            "remove the file or replace it with a UTF-8 Markdown claim"))
        return claim
    text = _decode(claim, data)
    claim.text = text
    _split(claim, text)
    claim.links = find_links(claim.body, claim.body_line)
    claim.title, claim.title_line = _title(claim)
    return claim


def _decode(claim: Claim, data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        claim.problems.append(problem(
            claim.path, "invalid-encoding", line,
            f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            "re-save the file as UTF-8"))
        text = data.decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _split(claim: Claim, text: str) -> None:
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        claim.problems.append(problem(
            claim.path, "no-frontmatter", 1,
            "file does not start with a YAML frontmatter block ('---' on line 1)",
            "add frontmatter: '---', the claim fields (type, domain, description, ...), '---'"))
        claim.body, claim.body_line = text, 1
        return
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        claim.problems.append(problem(
            claim.path, "unclosed-frontmatter", 1,
            "frontmatter opened on line 1 is never closed with '---'",
            "add a line '---' after the last frontmatter field"))
        claim.body, claim.body_line = "", len(lines) + 1
        return
    claim.body = "\n".join(lines[end + 1:])
    claim.body_line = end + 2
    _load_frontmatter(claim, "\n".join(lines[1:end]))


def _load_frontmatter(claim: Claim, source: str) -> None:
    try:
        loader = _Loader(source)
        try:
            node = loader.get_single_node()
            if node is not None and _too_many_nodes(node):
                claim.problems.append(problem(
                    claim.path, "unsafe-yaml", 2,
                    f"frontmatter expands to more than {MAX_YAML_NODES:,} YAML nodes "
                    "(anchors and aliases)", "write the values out plainly, without YAML aliases"))
                return
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 2 if mark else 2
        reason = getattr(exc, "problem", None) or str(exc).split("\n")[0]
        claim.problems.append(problem(
            claim.path, "invalid-yaml", line, f"frontmatter is not valid YAML: {reason}",
            "fix the YAML syntax; quote values that contain ':' or start with '[', '*' or '&'"))
        return
    except (ValueError, TypeError, RecursionError) as exc:  # e.g. a date like 2026-13-45
        claim.problems.append(problem(
            claim.path, "invalid-yaml", 2, f"frontmatter could not be loaded: {exc}",
            "fix the value; quote it if it is meant as text"))
        return
    if data is None:
        data = {}
    if not isinstance(data, dict):
        claim.problems.append(problem(
            claim.path, "not-a-mapping", 2,
            f"frontmatter is a YAML {type(data).__name__}, not a mapping of fields",
            "write the frontmatter as 'key: value' lines"))
        return
    claim.frontmatter = {str(k): v for k, v in data.items()}
    claim.key_lines = {str(k.value): k.start_mark.line + 2 for k, _ in node.value} if node else {}


def _too_many_nodes(root: Any) -> bool:
    """Count nodes as they would expand, stopping early; aliases reuse node objects."""
    budget = MAX_YAML_NODES
    stack = [root]
    while stack:
        node = stack.pop()
        budget -= 1
        if budget < 0:
            return True
        value = node.value
        if isinstance(value, list):
            for item in value:
                if isinstance(item, tuple):
                    stack.extend(item)
                else:
                    stack.append(item)
    return False


def find_links(body: str, first_line: int = 1) -> list[Link]:
    """Wiki links outside fenced code blocks and inline code spans."""
    links: list[Link] = []
    fence = ""
    for offset, line in enumerate(body.split("\n")):
        m = _FENCE.match(line)
        if m:
            marker = m.group(1)
            if not fence:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence):
                fence = ""
            continue
        if fence or "[[" not in line:
            continue
        visible = _INLINE_CODE.sub(lambda c: " " * len(c.group(0)), line)
        for match in _LINK.finditer(visible):
            links.append(make_link(match.group(0), match.group(2), first_line + offset,
                                   match.start() + 1, bool(match.group(1))))
    return links


def make_link(raw: str, inner: str, line: int, column: int, embed: bool = False) -> Link:
    target, _, alias = inner.partition("|")
    target, _, heading = target.partition("#")
    return Link(raw=raw, target=target.strip(), heading=heading.strip(), alias=alias.strip(),
                line=line, column=column, embed=embed)


def _title(claim: Claim) -> tuple[str, int | None]:
    fence = False
    for number, line in claim.body_lines():
        if _FENCE.match(line):
            fence = not fence
            continue
        m = None if fence else _H1.match(line)
        if m:
            return m.group(1).strip(), number
    return deslugify(claim.stem), None


def deslugify(stem: str) -> str:
    if " " in stem:
        return stem
    return stem.replace("-", " ").replace("_", " ").strip()
