"""The other half of the marker protocol: may an orchestrator merge this pull request now?

A verdict counts only when all of this holds:

- it is in a review or an issue comment (never the PR description, a commit message or an
  inline comment) written by a trusted account (`github.trusted`, else the token's own);
- its marker `<!-- VERDICT:KEY:APPROVE -->` is the last line of the body, outside any
  fenced code block, and the only marker in it;
- the line before it is claim-review's metadata, naming the head SHA it was made for;
- for a review, GitHub's `commit_id` agrees with that SHA and the review is not dismissed;
  a comment was never edited (anyone with write access may edit another's comment).

For every required key, the latest counted verdict must be APPROVE and made for the
current head SHA. Territory rules (branch prefix -> allowed paths) and protected paths
come on top. Everything ignored is listed, so a spoofing attempt is visible.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewer.base_rubric import load_base_rubric
from reviewer.github import GitHub, Post, Pull, api_url, own_login, token
from reviewer.globs import matches
from reviewer.protocol import APPROVE, KEY_RULE, has_marker_text, read_marker, valid_key
from reviewer.rubric import load_rubric
from reviewer.settings import GitHubSettings


@dataclass
class Marker:
    """A verdict read from one post."""

    key: str
    verdict: str
    head_sha: str
    post: Post


@dataclass
class GateDecision:
    head_sha: str
    blocking: list[str] = field(default_factory=list)
    info: list[str] = field(default_factory=list)
    counted: dict[str, Marker] = field(default_factory=dict)

    @property
    def eligible(self) -> bool:
        return not self.blocking

    def as_dict(self) -> dict[str, Any]:
        return {"eligible": self.eligible, "head_sha": self.head_sha,
                "blocking": self.blocking, "info": self.info,
                "verdicts": {k: {"verdict": m.verdict, "head_sha": m.head_sha,
                                 "source": m.post.label, "author": m.post.author,
                                 "url": m.post.url} for k, m in self.counted.items()}}


def marker_of(post: Post) -> tuple[Marker | None, str | None]:
    """The post's verdict (see `protocol.read_marker`), tied to the post."""
    found, problem = read_marker(post.body)
    if found is None:
        return None, problem
    return Marker(found.key, found.verdict, found.head_sha, post), None


def evaluate(pull: Pull, posts: list[Post], files: list[str], trusted: list[str],
             require: list[str], settings: GitHubSettings) -> GateDecision:
    out = GateDecision(pull.head_sha)
    _state(pull, out)
    if has_marker_text(pull.body):
        out.info.append("ignored: a verdict marker in the pull request description "
                        "(only reviews and comments by trusted accounts count)")
    markers = _counted_markers(posts, {t.lower() for t in trusted}, pull.head_sha, out)
    for key in require:
        _require(key, markers.get(key, []), pull.head_sha, trusted, out)
    _territory(pull, files, settings, out)
    for path in files:
        if matches(path, settings.protected):
            out.blocking.append(f"{show(path)} is protected (github.protected): "
                                "a person merges this pull request")
    return out


def _state(pull: Pull, out: GateDecision) -> None:
    if pull.merged:
        out.blocking.append("the pull request is already merged")
    elif pull.state != "open":
        out.blocking.append(f"the pull request is {show(pull.state)}")
    if pull.draft:
        out.blocking.append("the pull request is a draft")


def _counted_markers(posts: list[Post], trusted: set[str], head: str,
                     out: GateDecision) -> dict[str, list[Marker]]:
    markers: dict[str, list[Marker]] = {}
    for post in sorted(posts, key=lambda p: (p.when, p.kind, p.id)):
        marker, problem = marker_of(post)
        if marker is None and problem is None:
            continue
        who = f"{post.label} by @{show(post.author, quote=False)}"
        if post.author.lower() not in trusted:
            out.info.append(f"ignored: {who}: not a trusted account")
        elif problem is not None:
            out.info.append(f"ignored: {who}: {problem}")
        elif post.edited:
            out.info.append(f"ignored: {who}: edited after it was posted (any account with "
                            "write access may edit a comment)")
        elif post.kind == "review" and post.state == "DISMISSED":
            out.info.append(f"ignored: {who}: the review was dismissed")
        elif post.kind == "review" and post.commit_id and post.commit_id != marker.head_sha:
            out.info.append(f"ignored: {who}: made on commit {short(post.commit_id)} but its "
                            f"metadata names {short(marker.head_sha)}")
        else:
            markers.setdefault(marker.key, []).append(marker)
    return markers


def _require(key: str, found: list[Marker], head: str, trusted: list[str],
             out: GateDecision) -> None:
    if not found:
        out.blocking.append(f"{key}: no valid verdict from a trusted account "
                            f"({', '.join(trusted)}) on this pull request")
        return
    latest = found[-1]
    for older in found[:-1]:
        if older.head_sha != head:
            out.info.append(f"ignored: {older.post.label}: {key}:{older.verdict} was made "
                            f"for {short(older.head_sha)}, not the head {short(head)}")
    if latest.head_sha != head:
        out.blocking.append(f"{key}: the latest verdict ({latest.verdict}, "
                            f"{latest.post.label}) was made for {short(latest.head_sha)}, "
                            f"not the current head {short(head)}")
    elif latest.verdict != APPROVE:
        out.blocking.append(f"{key}: {latest.verdict} at the current head {short(head)} "
                            f"({latest.post.label})")
    else:
        out.counted[key] = latest


def _territory(pull: Pull, files: list[str], settings: GitHubSettings, out: GateDecision) -> None:
    if not settings.territories:
        return
    prefixes = sorted((p for p in settings.territories if pull.head_ref.startswith(p)),
                      key=len, reverse=True)
    if not prefixes:
        known = ", ".join(show(p) for p in sorted(settings.territories))
        out.blocking.append(f"branch {show(pull.head_ref)} matches no territory ({known})")
        return
    allowed = settings.territories[prefixes[0]]
    for path in files:
        if not matches(path, allowed):
            out.blocking.append(f"{show(path)} is outside the territory of branches "
                                f"{show(prefixes[0])} ({', '.join(allowed)})")


def show(text: str, quote: bool = True) -> str:
    """Untrusted names (paths, branches) on one printable line: a file named
    "x\\neligible" must not print a line of its own."""
    dumped = json.dumps(text)  # ASCII: U+2028 and friends would split lines too
    return dumped if quote else dumped[1:-1]


def short(sha: str) -> str:
    return sha[:12]


def render(out: GateDecision) -> str:
    lines = [f"info: {line}" for line in out.info]
    lines += [f"blocked: {line}" for line in out.blocking]
    if out.eligible:
        lines.append("eligible")
    return "\n".join(lines) + "\n"


def run_gate(repo: str, number: int, require: list[str], rubric_path: Path | None,
             api_option: str | None, env: Mapping[str, str]) -> GateDecision:
    """Read the pull request, its reviews and comments; decide. GitHubError on API failure."""
    client = GitHub(repo, token(env), api_url(api_option, env))
    pull = client.pull(number)
    if rubric_path is not None:
        rubric = load_rubric(rubric_path)
    else:  # the base branch's rubric: a pull request cannot add itself to `trusted`
        rubric = load_base_rubric(lambda p: client.file_text(p, pull.base_sha),
                                  f"base {short(pull.base_sha)}")
    settings = rubric.github
    trusted = list(settings.trusted)
    if not trusted:
        me = own_login(client, env) if token(env) else None
        if me is None:
            raise GateError("cannot tell which account the token acts as: list the accounts "
                            "whose verdicts count in the rubric's github.trusted")
        trusted = [me]
    keys = require or [rubric.reviewer_key]
    bad = [k for k in keys if not valid_key(k)]
    if bad:
        raise GateError(f"--require takes reviewer keys ({KEY_RULE}), not {bad[0]!r}")
    posts = client.reviews(number) + client.issue_comments(number)
    files = client.files(number) if settings.territories or settings.protected else []
    return evaluate(pull, posts, files, trusted, keys, settings)


class GateError(Exception):
    """A usage or configuration problem: exit 2."""
