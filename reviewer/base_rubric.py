"""The rubric as the base commit has it, never as the pull request would like it to be.

A pull request that edits `.claim-review.yaml` (disabling a check, trusting its author)
must not review itself with that edit. `pr` reads the rubric from the base commit's git
objects, `gate` through the contents API at the base SHA. A rubric and what it extends
are written to a private temporary folder and loaded from there by the one rubric loader.
"""

from __future__ import annotations

import posixpath
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import yaml

from reviewer.rubric import KB_CONFIG, Rubric, RubricError, builtin_names, load_rubric
from reviewer.sources import git
from reviewer.yamlload import SafeLoader, load_capped

Reader = Callable[[str], "str | None"]  # repository path -> text at the base, or None


def git_reader(repo: Path, commit: str, where: str) -> Reader:
    """Read files of one commit from git objects (never the working tree)."""
    def read(path: str) -> str | None:
        out = git(repo, "cat-file", "--batch", input_bytes=f"{commit}:{path}\n".encode())
        header, _, rest = out.partition(b"\n")
        if header.split()[1:2] != [b"blob"]:  # "<name> missing", or a tree
            return None
        size = int(header.split()[2])
        try:
            return rest[:size].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RubricError(f"{where}:{path}: rubric is not UTF-8") from exc

    return read


def blob_id(repo: Path, commit: str, path: str) -> str | None:
    """The blob a path has at a commit, or None."""
    out = git(repo, "cat-file", "--batch-check", input_bytes=f"{commit}:{path}\n".encode())
    parts = out.split()
    return parts[0].decode() if len(parts) == 3 and parts[1] == b"blob" else None


def load_base_rubric(read: Reader, where: str, path: str = KB_CONFIG) -> Rubric:
    """`path` at the base (the default rubric when the knowledge base has none there)."""
    text = read(path)
    if text is None:
        if path == KB_CONFIG:
            return load_rubric(None, None)
        raise RubricError(f"{where}:{path}: no such rubric in the base commit")
    folder = Path(tempfile.mkdtemp(prefix="claim-review-rubric-"))
    try:
        _materialise(read, path, text, folder)
        try:
            loaded = load_rubric(folder / path)
        except RubricError as exc:
            raise RubricError(str(exc).replace(f"{folder}/", f"{where}:")) from exc
        loaded.origin = [o.replace(f"{folder}/", f"{where}:") for o in loaded.origin]
        return loaded
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _materialise(read: Reader, path: str, text: str, folder: Path) -> None:
    """Write `path` and the chain of rubrics it extends under `folder`."""
    seen: set[str] = set()
    while path not in seen:
        seen.add(path)
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        parent = _extends(text)
        if parent is None:
            return
        nxt = posixpath.normpath(posixpath.join(posixpath.dirname(path), parent))
        if nxt.startswith("../") or nxt == ".." or posixpath.isabs(parent):
            return  # outside the repository: the loader reports it as not found
        found = read(nxt)
        if found is None:
            return
        path, text = nxt, found


def _extends(text: str) -> str | None:
    try:
        data = load_capped(text, SafeLoader)
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        return None  # the loader reports the error with its line
    parent = data.get("extends") if isinstance(data, dict) else None
    if not isinstance(parent, str) or parent == "default":
        return None
    builtin = "/" not in parent and not parent.endswith((".yaml", ".yml"))
    return None if builtin and parent in builtin_names() else parent
