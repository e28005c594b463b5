"""Sources of change: files named on the command line, or a git range."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from reviewer.baseline import Baseline, loads
from reviewer.claim import Claim
from reviewer.findings import Finding, make
from reviewer.globs import matches
from reviewer.index import Index
from reviewer.kb import KnowledgeBase, ReviewContext
from reviewer.parse import parse_claim, problem
from reviewer.rubric import Rubric
from reviewer.sources import (
    DirSource,
    GitTreeSource,
    SourceError,
    WorkTreeSource,
    git,
    is_regular,
    read_regular,
)


@dataclass
class Change:
    ctx: ReviewContext
    skipped: list[str] = field(default_factory=list)  # Markdown that is not a claim
    deleted: list[str] = field(default_factory=list)
    # diff and pr compare with the base: each changed note's base version (by head path)
    compared: bool = False
    base_versions: dict[str, Claim] = field(default_factory=dict)
    baseline: Baseline | None = None
    scope: Scope | None = None  # diff and pr: every path the change touches, accounted for

    def stats(self) -> dict[str, int]:
        stats = {"reviewed": len(self.ctx.claims) + len(self.ctx.notes),
                 "skipped": len(self.skipped), "deleted": len(self.deleted)}
        if self.ctx.notes:
            stats["other_types"] = len(self.ctx.notes)
        if self.scope is not None:
            stats.update(ignored=len(self.scope.ignored), unreviewed=len(self.scope.unreviewed))
        return stats


def today() -> date:
    """Today, or CLAIM_REVIEW_TODAY (YYYY-MM-DD) for reproducible runs."""
    pinned = os.environ.get("CLAIM_REVIEW_TODAY")
    return date.fromisoformat(pinned) if pinned else date.today()


def from_paths(kb_root: Path, args: list[Path], rubric: Rubric,
               baseline: Baseline | None = None, index: Index | None = None,
               claims_only: bool = False) -> Change:
    """The claims among `args` (files and folders), or of the whole base when there are
    none, and the notes of other declared types among them. A folder means its notes, as
    the whole-base run sees them (files.include and files.exclude); its notes of no
    reviewed type are skipped. A file named explicitly is reviewed (as its declared type,
    else as a claim), unless `claims_only`: then it is skipped when the rubric would not
    call it a claim of this base (outside the base, outside its notes, or not a claim),
    as a pre-commit hook that is handed every staged Markdown file needs."""
    kb = KnowledgeBase(DirSource(kb_root, rubric.files_exclude), rubric, index)
    root = kb.source.root
    claims: list[Claim] = []
    skipped: list[str] = []
    if not kb.notes and not args:
        raise SourceError(f"{kb_root}: the knowledge base holds no Markdown note; nothing "
                          "to review (is --kb the right folder?)")
    if not args:
        claims = [kb.claim(p) for p in kb.claim_paths()]
        chosen = {c.path for c in claims}
        kinds = {p: kb.kind(p) for p in kb.notes if p not in chosen}
        claims += [kb.typed(p) for p, kind in kinds.items() if kind is not None]
        skipped = [p for p, kind in kinds.items() if kind is None]
    for arg in args:
        if arg.is_dir():
            for file in _notes_under(kb, root, arg):
                claim = _load(kb, root, file)
                kind = kb.kind(claim.path, claim)
                if kind is None:
                    skipped.append(claim.path)
                else:
                    claim.kind = kind
                    claims.append(claim)
            continue
        claim = _load(kb, root, arg)
        if claims_only and not _claim_of_base(kb, root, arg, claim):
            skipped.append(claim.path)
        else:
            claim.kind = kb.kind(claim.path, claim) or "claim"
            claims.append(claim)
    return _change(kb, claims, skipped, baseline)


def from_stdin(kb_root: Path, name: Path, data: bytes, rubric: Rubric,
               baseline: Baseline | None = None, index: Index | None = None) -> Change:
    """One note read from standard input, reviewed as if it were the file `name`: inside
    the base it takes that file's place (links to it, duplicates of it), as an editor's
    unsaved buffer would."""
    kb = KnowledgeBase(DirSource(kb_root, rubric.files_exclude), rubric, index)
    display = _display(kb.source.root, name)
    if not display.lower().endswith(".md"):
        raise SourceError(f"--stdin-filename {name}: a note's name must end in .md")
    claim = parse_claim(display, data, rubric.max_file_bytes)
    kb.add(display, claim)
    claim.kind = kb.kind(display, claim) or "claim"
    return _change(kb, [claim], [], baseline)


def _change(kb: KnowledgeBase, claims: list[Claim], skipped: list[str],
            baseline: Baseline | None) -> Change:
    unique = list({c.path: c for c in claims}.values())
    ctx = ReviewContext(kb=kb, base=kb, claims=[c for c in unique if c.kind == "claim"],
                        rubric=kb.rubric, today=today(),
                        notes=[c for c in unique if c.kind != "claim"])
    return Change(ctx, skipped=skipped, baseline=baseline)


def _notes_under(kb: KnowledgeBase, root: Path, folder: Path) -> list[Path]:
    """A folder's notes. Inside the base: the base's own notes under it, so files.include
    and files.exclude apply as they do to a whole-base run (they are relative to the
    base's root). Outside it: its Markdown files, the globs taken from the folder."""
    where = _resolved(folder)
    try:
        prefix = where.relative_to(root).as_posix()
    except ValueError:
        source = DirSource(folder, kb.rubric.files_exclude)
        return sorted(folder / p for p in source.paths() if p.lower().endswith(".md")
                      and matches(p, kb.rubric.files_include))
    prefix = "" if prefix == "." else prefix + "/"
    return [root / p for p in kb.notes if p.startswith(prefix)]


def _claim_of_base(kb: KnowledgeBase, root: Path, file: Path, claim: Claim) -> bool:
    try:
        _resolved(file).relative_to(root)
    except ValueError:
        return False
    return _is_note(claim.path, kb.rubric) and kb.is_claim(claim.path, claim)


def _resolved(file: Path) -> Path:
    """The absolute path, its folders resolved and its last part kept (a symbolic link is
    reported, never followed)."""
    absolute = Path(os.path.abspath(file))
    return absolute.parent.resolve() / absolute.name


def _display(root: Path, file: Path) -> str:
    """How a file is shown: relative to the base's root inside it, else relative to the
    current folder, else absolute."""
    resolved = _resolved(file)
    try:
        return resolved.relative_to(root).as_posix()
    except ValueError:
        display = os.path.relpath(resolved).replace(os.sep, "/")
        return resolved.as_posix() if display.startswith("../") else display


def _load(kb: KnowledgeBase, root: Path, file: Path) -> Claim:
    """Parse a named file once; inside the base it is shown relative to the base root. A
    symbolic link is reported, never followed (its folder may be one: that is the user's
    own path)."""
    resolved = _resolved(file)
    display = _display(root, file)
    if not is_regular(resolved):  # a link, a device or a pipe (reading could block)
        return _not_a_file(display)
    if display in kb:
        return kb.claim(display)
    try:
        data = read_regular(resolved)
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


USE_BASE = "base"  # diff and pr read the baseline from the base commit


def merge_base(repo: Path, base: str, head: str) -> str:
    """The commit the change started from; clear errors for bad refs and shallow clones."""
    try:
        base_commit = git(repo, "rev-parse", "--verify", "--quiet", base + "^{commit}")
    except SourceError:
        raise SourceError(f"base ref '{base}' names no commit in {repo}") from None
    try:
        return git(repo, "merge-base", base_commit.decode().strip(), head).decode().strip()
    except SourceError:
        raise SourceError(f"'{base}' and '{head}' share no history in {repo}; in a shallow "
                          "clone fetch the full history (actions/checkout: fetch-depth: 0)"
                          ) from None


def from_git(repo: Path, base: str, head: str, rubric: Rubric, *, worktree: bool = False,
             baseline: Baseline | str | None = USE_BASE, index: Index | None = None) -> Change:
    """The notes changed between the merge-base of `base` and `head` (or, with `worktree`,
    the working tree), with their base versions for comparison."""
    require_repo(repo)
    head_commit = GitTreeSource(repo, head).commit
    start = merge_base(repo, base, head_commit)
    base_tree = GitTreeSource(repo, start)
    head_tree = WorkTreeSource(toplevel(repo)) if worktree else GitTreeSource(repo, head)
    head_kb = KnowledgeBase(head_tree, rubric, index)
    base_kb = KnowledgeBase(base_tree, rubric, index)
    scope = Scope(rubric)
    claims, notes, skipped, deleted, removed = [], [], [], [], []
    base_versions: dict[str, Claim] = {}
    changed = changed_files(repo, start, None if worktree else head_commit)
    if hasattr(head_tree, "prefetch"):  # one git process for every changed file
        head_tree.prefetch([new for status, _old, new in changed if status != "D"])
    base_tree.prefetch([old for status, old, _new in changed if status in "MRT"])
    for status, old, new in changed:
        if status in "DR":
            _left(old, status, base_kb, scope, removed, deleted)
        if status == "D":
            continue
        renamed_claim = status == "R" and _is_note(old, rubric) and base_kb.is_claim(old)
        if _unsafe_name(new) or not _is_note(new, rubric):
            scope.unreviewed_or_ignored(new, _why_not_reviewed(new, rubric))
            if renamed_claim:
                scope.deleted_claims.append((old, status))
            continue
        if head_tree.blob(new) is None:  # a symlink or submodule: never followed
            claims.append(_not_a_file(new))
            continue
        claim = head_kb.typed(new)
        if head_kb.kind(new, claim) is not None:
            (claims if claim.kind == "claim" else notes).append(claim)
            if status in "MRT" and base_tree.blob(old) is not None:
                base_versions[new] = base_kb.typed(old)
        else:
            skipped.append(new)
            scope.unreviewed_or_ignored(new, _why_not_a_claim(claim, rubric))
            if renamed_claim:
                scope.deleted_claims.append((old, status))
    ctx = ReviewContext(kb=head_kb, base=base_kb, claims=claims, rubric=rubric, today=today(),
                        removed=removed, notes=notes)
    if baseline == USE_BASE:
        baseline = baseline_at(base_tree, rubric)
    return Change(ctx, skipped=skipped, deleted=deleted, compared=True,
                  base_versions=base_versions, baseline=baseline, scope=scope)


def _left(old: str, status: str, base_kb: KnowledgeBase, scope: Scope, removed: list[str],
          deleted: list[str]) -> None:
    """A path the change deletes, or renames away."""
    rubric = base_kb.rubric
    if _unsafe_name(old):
        scope.unreviewed_or_ignored(old, "its name holds a control character")
        return
    if not _is_note(old, rubric):
        if status == "D":
            scope.unreviewed_or_ignored(old, "a deleted file no check reviews")
        return
    removed.append(old)
    if status != "D":
        return  # renamed: the new path is accounted for, and the loop checks it is a claim
    deleted.append(old)
    if base_kb.is_claim(old):
        scope.deleted_claims.append((old, status))
    elif base_kb.kind(old) is None:
        scope.unreviewed_or_ignored(old, "a deleted note of a type the rubric does not review")


@dataclass
class Scope:
    """Every path a change touches, accounted for: reviewed (a claim), ignored (by the
    rubric's files.ignore), or unreviewed, which blocks APPROVE."""

    rubric: Rubric
    ignored: list[str] = field(default_factory=list)
    unreviewed: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    deleted_claims: list[tuple[str, str]] = field(default_factory=list)  # (path, D or R)

    def unreviewed_or_ignored(self, path: str, why: str) -> None:
        if not _unsafe_name(path) and matches(path, self.rubric.files_ignore):
            self.ignored.append(path)
        else:
            self.unreviewed.append((path, why))

    def findings(self) -> list[Finding]:
        found = [problem(path, "unreviewed-path", 1,
                         f"{_shown(path)}: {why}, so nothing reviewed this change to it",
                         "a person reviews it; or list it in files.ignore of the base "
                         "branch's rubric if such changes need no review")
                 for path, why in self.unreviewed]
        for path, status in self.deleted_claims:
            what = "deletes" if status == "D" else "renames away, leaving no claim at"
            found.append(make("schema", "deleted-claim", path, 1,
                              f"this change {what} the claim {_shown(path)}",
                              "retire a claim instead (status: retired, superseded_by), "
                              "so that what relied on it can be re-examined"))
        return found


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _unsafe_name(path: str) -> bool:
    """A control character in a path: globs, logs and annotations cannot be trusted with
    it, so such a path is never reviewed, and never approved."""
    return _CONTROL.search(path) is not None


def _shown(path: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", path)


def _why_not_reviewed(path: str, rubric: Rubric) -> str:
    if _unsafe_name(path):
        return "its name holds a control character"
    if not path.lower().endswith(".md"):
        return "not a Markdown note"
    return "outside the notes the rubric reviews (files.include, files.exclude)"


def _why_not_a_claim(claim: Claim, rubric: Rubric) -> str:
    kind = claim.fm.get("type")
    if claim.frontmatter is None:
        return "a Markdown note whose frontmatter cannot be read, so its type is unknown"
    if not isinstance(kind, str) or not kind.strip():
        return "a Markdown note with no type"
    return f"a note of type '{kind}', which the rubric does not review"


def changed_files(repo: Path, start: str, head: str | None) -> list[tuple[str, str, str]]:
    """(status, old path, new path) from `start` to `head`, or to the working tree (with
    untracked files as added) when `head` is None."""
    args = ["diff", "--name-status", "-z", "-M", "--no-ext-diff", start]
    entries = _parse_name_status(git(repo, *args, *([head] if head else [])))
    if head is None:
        untracked = git(repo, "ls-files", "-z", "--others", "--exclude-standard", "--full-name",
                        ":/")
        entries += [("A", p, p) for p in _paths(untracked)]
    return entries


def toplevel(repo: Path) -> Path:
    return Path(git(repo, "rev-parse", "--show-toplevel").decode().strip())


def uncommitted_notes(repo: Path, rubric: Rubric, head: str = "HEAD") -> list[str]:
    """Notes whose working-tree or staged content differs from HEAD, or that are new.

    Empty when HEAD is not the reviewed head: the working tree is then not a draft of
    it, and `git status` over a large base costs a second for nothing."""
    if head != "HEAD" and _commit(repo, head) != _commit(repo, "HEAD"):
        return []
    out = git(repo, "status", "--porcelain", "-z", "--untracked-files=all")
    paths = []
    for entry in out.split(b"\0"):
        if len(entry) > 3 and entry[2:3] == b" ":
            paths.append(entry[3:].decode("utf-8", "replace"))
    # A path can be listed twice (staged deletion, then untracked).
    return sorted({p for p in paths if _is_note(p, rubric)})


def _commit(repo: Path, ref: str) -> bytes:
    try:
        return git(repo, "rev-parse", "--verify", "--quiet", ref + "^{commit}").strip()
    except SourceError:
        return b""


def _paths(out: bytes) -> list[str]:
    return [p.decode("utf-8", "replace") for p in out.split(b"\0") if p]


def baseline_at(tree: GitTreeSource, rubric: Rubric) -> Baseline | None:
    """The base commit's baseline: a change cannot accept its own findings."""
    path = rubric.baseline_path
    if not path or tree.blob(path) is None:
        return None
    try:
        text = tree.read(path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{tree.label()}:{path}: the baseline is not UTF-8") from exc
    return loads(text, f"{tree.label()}:{path}")


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
