"""Sources of change: files named on the command line, or a git range."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from reviewer.claim import Claim
from reviewer.globs import matches
from reviewer.kb import KnowledgeBase, ReviewContext
from reviewer.parse import parse_claim, problem
from reviewer.rubric import Rubric
from reviewer.sources import DirSource, GitTreeSource, SourceError, git


@dataclass
class Change:
    ctx: ReviewContext
    skipped: list[str] = field(default_factory=list)  # Markdown that is not a claim
    deleted: list[str] = field(default_factory=list)

    def stats(self) -> dict[str, int]:
        return {"reviewed": len(self.ctx.claims), "skipped": len(self.skipped),
                "deleted": len(self.deleted)}


def today() -> date:
    """Today, or CLAIM_REVIEW_TODAY (YYYY-MM-DD) for reproducible runs."""
    pinned = os.environ.get("CLAIM_REVIEW_TODAY")
    return date.fromisoformat(pinned) if pinned else date.today()


def from_paths(kb_root: Path, args: list[Path], rubric: Rubric) -> Change:
    kb = KnowledgeBase(DirSource(kb_root, rubric.files_exclude), rubric)
    root = kb.source.root
    claims: list[Claim] = []
    skipped: list[str] = []
    if not args:
        claims = [kb.claim(p) for p in kb.claim_paths()]
        chosen = {c.path for c in claims}
        skipped = [p for p in kb.notes if p not in chosen]
    for arg in args:
        if arg.is_dir():
            for file in sorted(_markdown_under(arg, rubric)):
                claim = _load(kb, root, file)
                if kb.is_claim(claim.path, claim):
                    claims.append(claim)
                else:
                    skipped.append(claim.path)
        else:
            claims.append(_load(kb, root, arg))
    unique = list({c.path: c for c in claims}.values())
    ctx = ReviewContext(kb=kb, base=kb, claims=unique, rubric=rubric, today=today())
    return Change(ctx, skipped=skipped)


def _markdown_under(folder: Path, rubric: Rubric) -> list[Path]:
    source = DirSource(folder, rubric.files_exclude)
    return [folder / p for p in source.paths() if p.lower().endswith(".md")]


def _load(kb: KnowledgeBase, root: Path, file: Path) -> Claim:
    """Parse a named file once; inside the base it is shown relative to the base root."""
    resolved = file.resolve()
    try:
        display = resolved.relative_to(root).as_posix()
    except ValueError:
        display = os.path.relpath(resolved).replace(os.sep, "/")
        if display.startswith("../"):
            display = resolved.as_posix()
    if display in kb:
        return kb.claim(display)
    if not resolved.is_file():  # a device or a pipe: reading could block or never end
        return _not_a_file(display)
    try:
        data = resolved.read_bytes()
    except OSError as exc:
        raise SourceError(f"{file}: cannot read ({exc.strerror})") from exc
    claim = parse_claim(display, data, kb.rubric.max_file_bytes)
    kb.add(display, claim)
    return claim


DEFAULT_BASES = ("main", "origin/main", "master", "origin/master")


def require_repo(repo: Path) -> None:
    if not repo.is_dir():
        raise SourceError(f"{repo}: no such folder")
    try:
        git(repo, "rev-parse", "--git-dir")
    except SourceError:
        raise SourceError(f"{repo}: not a git repository") from None


def default_base(repo: Path) -> str:
    """The first of main, origin/main, master, origin/master that names a commit: a CI
    checkout often has only the remote-tracking branch."""
    require_repo(repo)
    for ref in DEFAULT_BASES:
        try:
            git(repo, "rev-parse", "--verify", "--quiet", ref + "^{commit}")
            return ref
        except SourceError:
            continue
    raise SourceError(f"{repo}: none of {', '.join(DEFAULT_BASES)} exists; "
                      "pass the base branch with --base")


def from_git(repo: Path, base: str, head: str, rubric: Rubric) -> Change:
    require_repo(repo)
    head_tree = GitTreeSource(repo, head)
    try:
        base_commit = git(repo, "rev-parse", "--verify", "--quiet", base + "^{commit}")
    except SourceError:
        raise SourceError(f"base ref '{base}' names no commit in {repo}") from None
    try:
        merge_base = git(repo, "merge-base", base_commit.decode().strip(),
                         head_tree.commit).decode().strip()
    except SourceError:
        raise SourceError(f"'{base}' and '{head}' share no history in {repo}; in a shallow "
                          "clone fetch the full history (actions/checkout: fetch-depth: 0)"
                          ) from None
    base_tree = GitTreeSource(repo, merge_base)
    head_kb = KnowledgeBase(head_tree, rubric)
    base_kb = KnowledgeBase(base_tree, rubric)
    out = git(repo, "diff", "--name-status", "-z", "-M", merge_base, head_tree.commit)
    claims, skipped, deleted, removed = [], [], [], []
    for status, old, new in _parse_name_status(out):
        if status == "D":
            if _is_note(old, rubric):
                deleted.append(old)
                removed.append(old)
            continue
        if status == "R" and _is_note(old, rubric):
            removed.append(old)
        if not _is_note(new, rubric):
            continue
        if head_tree.blob(new) is None:  # a symlink or submodule: never followed
            claims.append(_not_a_file(new))
            continue
        claim = head_kb.claim(new)
        if head_kb.is_claim(new, claim):
            claims.append(claim)
        else:
            skipped.append(new)
    ctx = ReviewContext(kb=head_kb, base=base_kb, claims=claims, rubric=rubric, today=today(),
                        removed=removed)
    return Change(ctx, skipped=skipped, deleted=deleted)


def _not_a_file(path: str) -> Claim:
    claim = Claim(path=path)
    claim.problems.append(problem(
        path, "not-a-regular-file", 1,
        "this note is not a regular file (a symbolic link, submodule, device or pipe)",
        "make the claim a regular Markdown file; links are never followed"))
    claim.unreadable = True
    return claim


def _is_note(path: str, rubric: Rubric) -> bool:
    return path.lower().endswith(".md") and matches(path, rubric.files_include) \
        and not matches(path, rubric.files_exclude)


def _parse_name_status(out: bytes) -> list[tuple[str, str, str]]:
    """`git diff --name-status -z`: STATUS\\0PATH\\0, or STATUS\\0OLD\\0NEW\\0 for R and C."""
    parts = [p.decode("utf-8", "replace") for p in out.split(b"\0")]
    entries, i = [], 0
    while i < len(parts) and parts[i]:
        status = parts[i][0]
        if status in "RC":
            entries.append((status, parts[i + 1], parts[i + 2]))
            i += 3
        else:
            entries.append((status, parts[i + 1], parts[i + 1]))
            i += 2
    return entries
