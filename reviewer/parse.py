"""bytes -> Claim. Bad content becomes findings (reported by the schema check), never exceptions."""

from __future__ import annotations

from typing import Any

import yaml

from reviewer.claim import Claim, deslugify, fenced, find_links, heading, make_link  # noqa: F401
from reviewer.findings import ERROR, Finding
from reviewer.yamlload import MAX_NODES, SafeLoader, too_many_nodes


class _Loader(SafeLoader):
    """Safe loading, except that an impossible date stays text."""


def _timestamp(loader: _Loader, node: yaml.Node) -> Any:
    """`created: 2026-13-45` stays the string it is, so the schema check reports it on its
    own line as an invalid date instead of the whole frontmatter failing to load."""
    try:
        return SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)

MAX_BYTES = 2_000_000
MAX_YAML_NODES = MAX_NODES



def problem(path: str, rule: str, line: int, message: str, hint: str) -> Finding:
    return Finding("schema", f"schema.{rule}", ERROR, path, line, message, hint)


def parse_claim(path: str, data: bytes, max_bytes: int = MAX_BYTES) -> Claim:
    claim = Claim(path=path)
    if len(data) > max_bytes:  # rejected before parsing, and never sent to the judge
        claim.problems.append(problem(
            path, "file-too-large", 1,
            f"file is {len(data):,} bytes, over the {max_bytes:,}-byte limit for a claim",
            "split it into several claims or move bulk data out of the knowledge base"))
        claim.unreadable = True
        return claim
    if b"\x00" in data:
        claim.problems.append(problem(
            path, "binary-file", 1, "file contains NUL bytes: it is binary, not Markdown",
            "remove the file or replace it with a UTF-8 Markdown claim"))
        claim.unreadable = True
        return claim
    text = _decode(claim, data)
    claim.text = text
    _split(claim, text)
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
            if node is not None and "*" in source and too_many_nodes(node):
                claim.problems.append(problem(
                    claim.path, "unsafe-yaml", 2,
                    f"frontmatter expands to more than {MAX_YAML_NODES:,} YAML nodes "
                    "(anchors and aliases)", "write the values out plainly, without YAML aliases"))
                return
            # before construction, which folds `<<` merge keys into the key list
            keys = [k for k, _v in node.value] if isinstance(node, yaml.MappingNode) else []
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
    except (ValueError, TypeError, RecursionError) as exc:  # e.g. `x: !!int abc`
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
    claim.frontmatter = {k: v for k, v in data.items() if isinstance(k, str)}
    claim.key_lines = {}
    for key in keys:
        _check_key(claim, key)


def _check_key(claim: Claim, key: Any) -> None:
    """Field names are text and appear once: YAML would keep only the last of two
    `confidence:` lines, and a `2024:` key is a value that lost its field."""
    line = key.start_mark.line + 2
    if key.tag == "tag:yaml.org,2002:merge":
        return
    if key.tag != "tag:yaml.org,2002:str":
        claim.problems.append(problem(
            claim.path, "invalid-key", line,
            f"frontmatter key '{str(key.value)[:40]}' is not a field name",
            "field names are words such as 'source:'; quote the key if it is meant as text"))
        return
    first = claim.key_lines.get(key.value)
    if first is not None:
        claim.problems.append(problem(
            claim.path, "duplicate-key", line,
            f"field '{key.value}' appears twice (lines {first} and {line}); "
            "only the last value counts",
            f"keep one '{key.value}:' line"))
    claim.key_lines[key.value] = line


def _title(claim: Claim) -> tuple[str, int | None]:
    lines = claim.body_lines()
    for (number, line), code in zip(lines, fenced(text for _n, text in lines), strict=True):
        found = None if code else heading(line)
        if found is not None and found[0] == 1:
            return found[1], number
    return deslugify(claim.stem), None
