"""The other half of the marker protocol: may an orchestrator merge this pull request now?

A verdict counts only when all of this holds (`read_post`, which `pr` uses too):

- it is in a review or an issue comment (never the PR description, a commit message or an
  inline comment) written by a trusted account (`github.trusted`, else the token's own);
  without a signing key, github-actions[bot] is not trusted (any workflow of the
  repository can post as it) unless the rubric sets `github.trust_unsigned_actions_bot`;
- its marker `<!-- VERDICT:KEY:APPROVE -->` is the last line of the body, outside any
  fenced code block, and the only marker in it;
- the line before it is claim-review's metadata, naming the head SHA it was made for and,
  when a signing key is configured (CLAIM_REVIEW_SIGNING_KEY), signed with that key over
  this very body (`protocol.read_marker`);
- for a review, GitHub's `commit_id` agrees with that SHA, the review is not dismissed, and
  its state agrees with the marker (APPROVED: APPROVE, CHANGES_REQUESTED: REQUEST_CHANGES,
  COMMENTED: either); a comment was never edited (anyone with write access may edit
  another's comment).

For every required key, the latest counted verdict must be APPROVE and made for the
current head SHA. Territory rules (branch prefix -> allowed paths) and protected paths
come on top, checked only on the complete list of the pull request's files. Everything
ignored is listed, so a spoofing attempt is visible.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from reviewer.base_rubric import load_base_rubric
from reviewer.github import (
    ACTIONS_BOT,
    FILES_LISTED_AT_MOST,
    ChangedFiles,
    GitHub,
    Post,
    Pull,
    api_url,
    own_login,
    token,
)
from reviewer.globs import matches
from reviewer.protocol import (
    APPROVE,
    KEY_RULE,
    REQUEST_CHANGES,
    SIGNING_KEY_ENV,
    SigningKeyError,
    has_marker_text,
    read_marker,
    signing_key,
    valid_key,
)
from reviewer.rubric import Rubric, load_rubric
from reviewer.settings import GitHubSettings

NOT_TRUSTED = "not a trusted account"
# a signed verdict is posted within this time of its signing; a later post is a copy
MAX_SIGNED_AGE = timedelta(minutes=30)
CLOCK_SKEW = timedelta(minutes=5)  # the runner's clock may run ahead of GitHub's
# the verdicts a review's state can carry; any other state (PENDING, DISMISSED) carries none
STATE_VERDICTS = {"APPROVED": (APPROVE,), "CHANGES_REQUESTED": (REQUEST_CHANGES,),
                  "COMMENTED": (APPROVE, REQUEST_CHANGES)}
UNSIGNED_BOT = (f"{ACTIONS_BOT} posts for every workflow of this repository and no signing "
                f"key is configured ({SIGNING_KEY_ENV}), so its verdicts do not count: give "
                "`claim-review pr` and `claim-review gate` the same signing key (the Action's "
                "signing-key input), or accept the risk with "
                "`github.trust_unsigned_actions_bot: true` in the base branch's rubric")


@dataclass
class Marker:
    """A verdict read from one post."""

    key: str
    verdict: str
    head_sha: str
    post: Post
    signed_at: datetime | None = None  # when it was signed; None when no key is configured

    @property
    def time(self) -> datetime:
        """When the verdict was given: its signing time, else GitHub's time of the post. A
        copy posted later keeps the time of the verdict it copies."""
        return self.signed_at or self.post.when


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
                                 "url": m.post.url, "signed": m.signed_at is not None}
                             for k, m in self.counted.items()}}


def marker_of(post: Post, key: bytes | None = None) -> tuple[Marker | None, str | None]:
    """The post's verdict (see `protocol.read_marker`), tied to the post."""
    found, problem = read_marker(post.body, key)
    if found is None:
        return None, problem
    return Marker(found.key, found.verdict, found.head_sha, post, found.signed_at), None


def distrusts_unsigned_bot(key: bytes | None, settings: GitHubSettings) -> bool:
    """Whether verdicts by github-actions[bot] are worthless here: no signing key, and the
    rubric does not accept the risk."""
    return key is None and not settings.trust_unsigned_actions_bot


def read_post(post: Post, trusted: set[str], key: bytes | None
              ) -> tuple[Marker | None, str | None]:
    """(the post's verdict, None) when it counts; (None, why not) when it carries a marker
    that does not count; (None, None) when it carries none. `trusted`: lower-case logins."""
    if not has_marker_text(post.body):
        return None, None
    if post.author.lower() not in trusted:
        return None, NOT_TRUSTED
    marker, problem = marker_of(post, key)
    if marker is None:
        return None, problem
    if post.edited:
        return None, ("edited after it was posted (any account with write access may edit a "
                      "comment)")
    if post.kind == "review" and post.state == "DISMISSED":
        return None, "the review was dismissed"
    if post.kind == "review" and marker.verdict not in STATE_VERDICTS.get(post.state or "", ()):
        return None, (f"the review's state {show(post.state or 'unknown')} disagrees with its "
                      f"marker {marker.verdict}")
    if post.kind == "review" and post.commit_id and post.commit_id != marker.head_sha:
        return None, (f"made on commit {short(post.commit_id)} but its metadata names "
                      f"{short(marker.head_sha)}")
    if marker.signed_at is not None:
        lag = post.when - marker.signed_at
        if lag > MAX_SIGNED_AGE or lag < -CLOCK_SKEW:
            return None, (f"signed at {_when(marker.signed_at)} but posted at "
                          f"{_when(post.when)}: a copy of an earlier verdict (claim-review "
                          f"posts within {MAX_SIGNED_AGE.seconds // 60} minutes of signing)")
    return marker, None


def _when(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def evaluate(pull: Pull, posts: list[Post], files: ChangedFiles | None, trusted: list[str],
             require: list[str], settings: GitHubSettings,
             key: bytes | None = None) -> GateDecision:
    """`files`: the files API's list, None when no rule needs it (no protected paths, no
    territories); `key`: the signing key, None when none is configured."""
    out = GateDecision(pull.head_sha)
    _state(pull, out)
    if has_marker_text(pull.body):
        out.info.append("ignored: a verdict marker in the pull request description "
                        "(only reviews and comments by trusted accounts count)")
    accounts = {t.lower() for t in trusted}
    if ACTIONS_BOT in accounts and distrusts_unsigned_bot(key, settings):
        accounts.discard(ACTIONS_BOT)
        (out.info if accounts else out.blocking).append(UNSIGNED_BOT)
    markers = _counted_markers(posts, accounts, key, out)
    shown = [t for t in trusted if t.lower() in accounts]
    for reviewer in require:
        _require(reviewer, markers.get(reviewer, []), pull.head_sha, shown, out)
    _changes_requested_since(posts, markers, accounts, pull.head_sha, out)
    if files is not None and _complete(pull, files, out):
        _territory(pull, files.paths, settings, out)
        for path in files.paths:
            if matches(path, settings.protected):
                out.blocking.append(f"{show(path)} is protected (github.protected): "
                                    "a person merges this pull request")
    return out


def _changes_requested_since(posts: list[Post], markers: dict[str, list[Marker]],
                             accounts: set[str], head: str, out: GateDecision) -> None:
    """A trusted account's CHANGES_REQUESTED review at this head, later than a counted
    APPROVE, whose own marker does not count, blocks that APPROVE. GitHub never changes a
    review's state or time, but its body can be edited without a trace in the REST API: a
    newer REQUEST_CHANGES verdict stripped of its marker must not bring back an older
    APPROVE (a superseded one restored, or a copy of it)."""
    counted = {(m.post.kind, m.post.id) for found in markers.values() for m in found}
    for reviewer, marker in list(out.counted.items()):
        late = [p for p in posts if p.kind == "review" and p.state == "CHANGES_REQUESTED"
                and p.commit_id == head and p.author.lower() in accounts
                and (p.kind, p.id) not in counted and p.when > marker.time]
        if late:
            first = min(late, key=order)
            out.blocking.append(f"{reviewer}: {first.label} by "
                                f"@{show(first.author, quote=False)} requested changes at the "
                                f"current head after the counted APPROVE ({marker.post.label}) "
                                "and carries no verdict that counts (a verdict edited away, or "
                                "a person's request): it stands until a newer verdict")
            del out.counted[reviewer]


def _complete(pull: Pull, files: ChangedFiles, out: GateDecision) -> bool:
    """Protected paths and territories are checked on the whole list or not at all: a path
    past GitHub's listing cap would go unseen."""
    if pull.changed_files is None:
        out.blocking.append("GitHub did not say how many files the pull request changes, so "
                            "protected paths and territories cannot be checked: a person "
                            "merges this pull request")
        return False
    if files.listed < pull.changed_files:
        out.blocking.append(f"GitHub listed {files.listed} of the pull request's "
                            f"{pull.changed_files} changed files (its files API stops at "
                            f"{FILES_LISTED_AT_MOST:,}), so protected paths and territories "
                            "cannot be checked on the whole change: a person merges this "
                            "pull request")
        return False
    return True


def _state(pull: Pull, out: GateDecision) -> None:
    if pull.merged:
        out.blocking.append("the pull request is already merged")
    elif pull.state != "open":
        out.blocking.append(f"the pull request is {show(pull.state)}")
    if pull.draft:
        out.blocking.append("the pull request is a draft")


def _counted_markers(posts: list[Post], trusted: set[str], key: bytes | None,
                     out: GateDecision) -> dict[str, list[Marker]]:
    markers: dict[str, list[Marker]] = {}
    for post in sorted(posts, key=order):
        marker, problem = read_post(post, trusted, key)
        if problem is not None:
            who = f"{post.label} by @{show(post.author, quote=False)}"
            if problem == NOT_TRUSTED and post.author.lower() == ACTIONS_BOT:
                problem += " without a signing key (see github.trust_unsigned_actions_bot)"
            out.info.append(f"ignored: {who}: {problem}")
        elif marker is not None:
            markers.setdefault(marker.key, []).append(marker)
    return markers


def order(post: Post) -> tuple:
    """Posts in the order they were made (GitHub's times, then ids)."""
    return (post.when, post.kind, post.id)


def in_time_order(markers: list[Marker]) -> list[Marker]:
    """Verdicts in the order they were given (`Marker.time`); of two given in the same
    second, the one that requests changes is taken as the later: a copy of an APPROVE
    must not win a tie."""
    return sorted(markers, key=lambda m: (m.time, m.verdict != APPROVE, order(m.post)))


def _require(key: str, found: list[Marker], head: str, trusted: list[str],
             out: GateDecision) -> None:
    if not found:
        accounts = ", ".join(trusted) or "none is left"
        out.blocking.append(f"{key}: no valid verdict from a trusted account "
                            f"({accounts}) on this pull request")
        return
    found = in_time_order(found)
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
    """The text output. Paths and branch names are untrusted: no line of it may read as a
    workflow command when the gate runs in a workflow (`##[` anywhere in a line)."""
    from reviewer.render.annotations import inert

    lines = [f"info: {line}" for line in out.info]
    lines += [f"blocked: {line}" for line in out.blocking]
    if out.eligible:
        lines.append("eligible")
    return inert("\n".join(lines)) + "\n"


def render_json(out: GateDecision) -> str:
    """The JSON output; `[` after `##` is written as the escape \\u005b, which decodes to the
    same text but cannot read as a workflow command."""
    return json.dumps(out.as_dict(), indent=2, ensure_ascii=True).replace("##[", "##\\u005b")


def run_gate(repo: str, number: int, require: list[str], rubric_path: Path | None,
             api_option: str | None, env: Mapping[str, str],
             log: Callable[[str], None] | None = None) -> GateDecision:
    """Read the pull request, its reviews and comments; decide. GitHubError on API failure.
    `log` takes a line for each retried request."""
    client = GitHub(repo, token(env), api_url(api_option, env), log)
    pull = client.pull(number)
    if rubric_path is not None:
        rubric = load_rubric(rubric_path)
    else:  # the base branch's rubric: a pull request cannot add itself to `trusted`
        rubric = load_base_rubric(lambda p: client.file_text(p, pull.base_sha),
                                  f"base {short(pull.base_sha)}")
    settings = rubric.github
    try:
        key = signing_key(env)
    except SigningKeyError as exc:
        raise GateError(str(exc)) from exc
    trusted = list(settings.trusted)
    if not trusted:
        me = own_login(client, env) if token(env) else None
        if me is None:
            raise GateError("cannot tell which account the token acts as: list the accounts "
                            "whose verdicts count in the rubric's github.trusted")
        trusted = [me]
    bad = [k for k in require if not valid_key(k)]
    if bad:
        raise GateError(f"--require takes reviewer keys ({KEY_RULE}), not {bad[0]!r}")
    several = not require and len(rubric.reviewers) > 1
    posts = client.reviews(number) + client.issue_comments(number)
    files = client.files(number) \
        if settings.territories or settings.protected or several else None
    keys = require or required_keys(rubric, files, pull)
    decision = evaluate(pull, posts, files, trusted, keys, settings, key)
    if several:
        decision.info.append("required reviewers: " + ", ".join(keys) + " (those whose "
                             "covers the change's paths and branch fall in)")
    return decision


def required_keys(rubric: Rubric, files: ChangedFiles | None, pull: Pull) -> list[str]:
    """The required reviewers a change falls to, by its paths and head branch (a reviewer
    that covers only domains is matched by `pr` on the claims' fields, which the gate does
    not read: give it `paths` too). With one reviewer, its key."""
    if len(rubric.reviewers) == 1:
        return [rubric.reviewer_key]
    paths = files.paths if files is not None else []
    return [r.key for r in rubric.reviewers
            if r.required and r.applies(paths, None, pull.head_ref)]


class GateError(Exception):
    """A usage or configuration problem: exit 2."""
