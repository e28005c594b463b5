"""Where files come from: a folder on disk or a git tree. Both list relative POSIX paths."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from reviewer.globs import matches

PRUNED_DIRS = {".git", "node_modules", ".obsidian", "__pycache__", ".venv"}


class SourceError(Exception):
    """A folder or git revision that cannot be read: a usage error, exit 2."""


class DirSource:
    def __init__(self, root: Path, exclude: list[str] = ()):  # type: ignore[assignment]
        self.root = root.resolve()
        self._root = str(self.root)
        self.exclude = list(exclude)
        if not self.root.is_dir():
            raise SourceError(f"knowledge base folder not found: {root}")

    def paths(self) -> list[str]:
        """Every file under the root; symbolic links (to files or folders) are never
        followed, so a note linked to `.git/config` or `~/.ssh` is never read."""
        found: list[str] = []
        stack = [("", self._root)]
        while stack:
            prefix, folder = stack.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:  # DirEntry knows links and folders without a stat call
                if entry.is_symlink():
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in PRUNED_DIRS and \
                            not matches(prefix + entry.name + "/", self.exclude):
                        stack.append((prefix + entry.name + "/", entry.path))
                elif entry.is_file(follow_symlinks=False):
                    found.append(prefix + entry.name)
        return sorted(found)

    def read(self, path: str) -> bytes:
        return read_regular(self.full(path))

    def blob(self, path: str) -> str | None:
        """'file' for a regular file that is no symbolic link, else None (git's sense)."""
        return "file" if is_regular(self.full(path)) else None

    def stream(self, paths: list[str]):
        for path in paths:
            yield path, self.read(path)

    def full(self, path: str) -> str:
        """The file's absolute path, as a string: pathlib is slow over a whole base."""
        return os.path.join(self._root, path)

    def stat(self, path: str) -> str | None:
        """Size and modification time: unchanged, the index's content key still holds."""
        try:
            info = os.lstat(self.full(path))
        except OSError:
            return None
        return f"{info.st_size}:{info.st_mtime_ns}"

    def key(self, path: str) -> str | None:
        return None  # only the bytes tell; see KnowledgeBase._keys

    def label(self) -> str:
        return str(self.root)


class WorkTreeSource(DirSource):
    """A git working tree, for `diff --worktree`: the files as they are on disk."""


def is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def read_regular(path: Path) -> bytes:
    """A regular file's bytes, refusing symbolic links at the last component (O_NOFOLLOW)
    and anything that is not a regular file (a pipe could block forever)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path}: not a regular file")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def git(repo: Path, *args: str, input_bytes: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], input=input_bytes,
                              capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise SourceError("git is not installed or not on PATH") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SourceError(f"git {' '.join(args[:3])} failed: {message[-1] if message else ''}")
    return done.stdout


class GitTreeSource:
    """The files of one commit, read from git objects (never the working tree)."""

    def __init__(self, repo: Path, ref: str):
        self.repo = repo
        self.ref = ref
        try:
            found = git(repo, "rev-parse", "--verify", "--quiet", ref + "^{commit}")
        except SourceError:
            raise SourceError(f"'{ref}' names no commit in {repo}") from None
        self.commit = found.decode().strip()
        self._blobs: dict[str, str] = {}
        self._cache: dict[str, bytes] = {}
        out = git(repo, "ls-tree", "-r", "-z", "--full-tree", self.commit)
        for entry in out.split(b"\0"):
            if not entry:
                continue
            meta, _, name = entry.partition(b"\t")
            mode, kind, sha = meta.decode().split()
            if kind == "blob" and mode != "120000":  # symlinks are never followed
                self._blobs[name.decode("utf-8", "replace")] = sha

    def paths(self) -> list[str]:
        return sorted(p for p in self._blobs if not any(
            part in PRUNED_DIRS for part in p.split("/")[:-1]))

    def blob(self, path: str) -> str | None:
        return self._blobs.get(path)

    def read(self, path: str) -> bytes:
        if path not in self._cache:
            self.prefetch([path])
        return self._cache[path]

    def prefetch(self, paths: list[str]) -> None:
        """Read many blobs with one `git cat-file --batch` process, and keep them."""
        wanted = [p for p in paths if p not in self._cache and p in self._blobs]
        self._cache.update(self.stream(wanted))

    def stream(self, paths: list[str], batch: int = 2000):
        """(path, bytes) for each path, read in batches and not kept: memory stays in
        proportion to a batch, not to the base."""
        for first in range(0, len(paths), batch):
            wanted = [p for p in paths[first:first + batch] if p in self._blobs]
            if not wanted:
                continue
            request = "".join(self._blobs[p] + "\n" for p in wanted).encode()
            out = git(self.repo, "cat-file", "--batch", input_bytes=request)
            pos = 0
            for path in wanted:
                header_end = out.index(b"\n", pos)
                header = out[pos:header_end].split()
                if len(header) != 3:  # "<sha> missing": a shallow or partial clone
                    raise SourceError(f"git has no contents for {path} at {self.ref} "
                                      "(a shallow or partial clone? fetch full history)")
                size = int(header[2])
                start = header_end + 1
                yield path, out[start:start + size]
                pos = start + size + 1

    def key(self, path: str) -> str | None:
        """The content key of a file without reading it: its blob id."""
        blob = self._blobs.get(path)
        return f"git:{blob}" if blob else None

    def label(self) -> str:
        return f"{self.ref} ({self.commit[:12]})"
