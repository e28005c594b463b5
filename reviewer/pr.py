"""`claim-review pr`: review a pull request from git objects and post the review on GitHub.

The flow, top to bottom:

1. target: which repository, pull request and head SHA (the Actions event, a two-step
   artifact, or --repo/--pr), then the pull request as the API has it now;
2. the rubric of the *base* commit (a pull request never reviews itself with its own
   rubric), and an early exit when this head SHA already carries our verdict (one that
   counts as `gate` counts it: signed when a signing key is configured);
3. the change from git (`from_git`, as `diff`), the review (`build_review`), inline
   comments for findings on changed lines, the body with hidden metadata (signed with
   CLAIM_REVIEW_SIGNING_KEY when set) and the marker;
4. the head re-read: a head that moved while we reviewed discards the result; and the
   verdicts re-read: one that a concurrent run posted meanwhile stands, nothing is posted;
5. one post, falling back from a refused APPROVE/REQUEST_CHANGES review to a COMMENT
   review, then to an issue comment, never the other way round (a rate limit is never a
   refusal: `github.py` waits and retries);
6. settling: our older verdicts at this head that the post replaces (`--force`, or
   verdicts that do not count) are superseded, edited so they can never count again; when
   concurrent runs posted for the same head, the earliest verdict that counts stays in
   force and the later ones are superseded by their own runs.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewer import __version__
from reviewer.base_rubric import git_reader, load_base_rubric
from reviewer.gate import distrusts_unsigned_bot, in_time_order, order, read_post, short
from reviewer.github import (
    ACTIONS_BOT,
    GitHub,
    GitHubError,
    Post,
    Pull,
    api_url,
    own_login,
    token,
)
from reviewer.pipeline import (
    EXIT_INCOMPLETE,
    build_review,
    exit_code,
    model_override,
    verdict_code,
)
from reviewer.protocol import (
    KEY_RULE,
    SigningKeyError,
    read_marker,
    read_meta,
    signing_key,
    supersede,
    valid_key,
    valid_sha,
)
from reviewer.render.markdown import render_markdown
from reviewer.review import APPROVE, REQUEST_CHANGES, Review
from reviewer.rubric import KB_CONFIG, Rubric, load_rubric
from reviewer.settings import GitHubSettings, Reviewer
from reviewer.sources import SourceError, git

REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
RETRY_DELAY = 2.0  # seconds before re-posting after a 5xx that did not post
ARTIFACT_MAX_BYTES = 10_000
Log = Callable[[str], None]


class PrError(Exception):
    """A usage, configuration or environment problem: exit 2 with this one line."""


@dataclass
class PrOptions:
    """The command line of `claim-review pr`."""

    repo: str | None = None
    pr: int | None = None
    repo_dir: Path = Path(".")
    api_url: str | None = None
    rubric: Path | None = None
    no_llm: bool = False
    model: str | None = None
    dry_run: bool = False
    force: bool = False
    post_as: str | None = None
    reviewer_key: str | None = None
    fail_on: str = "request-changes"
    artifact: Path | None = None


@dataclass
class Target:
    repo: str
    number: int
    head_sha: str | None = None  # the commit this run was started for (event or artifact)
    base_sha: str | None = None  # from a pull_request event only, never from an artifact
    bundle: Path | None = None  # the pull request's commits, from a two-step artifact


# -- 1. the target -------------------------------------------------------------
def resolve_target(options: PrOptions, env: Mapping[str, str]) -> Target:
    repo = options.repo or env.get("GITHUB_REPOSITORY", "")
    if not REPO.fullmatch(repo):
        raise PrError("which repository? pass --repo OWNER/NAME (GitHub Actions sets "
                      "GITHUB_REPOSITORY)" if not repo else f"--repo must be OWNER/NAME, not "
                      f"{repo!r}")
    art = read_artifact(options.artifact) if options.artifact else None
    if options.pr is not None:
        target = Target(repo, options.pr)
    else:
        target = _from_event(repo, _event(env), env.get("GITHUB_EVENT_NAME", ""))
    if art is not None:
        number, head, bundle = art
        if target.number not in (0, number):
            raise PrError(f"the artifact is for pull request #{number}, not #{target.number}")
        if target.head_sha not in (None, head):
            raise PrError(f"the artifact was made for {short(head)}, but this workflow run is "
                          f"for {short(target.head_sha or '')}: it belongs to another run")
        target.number, target.head_sha, target.bundle = number, head, bundle
    if target.number <= 0:
        raise PrError("which pull request? this event names none: pass --pr N, or --artifact "
                      "DIR in the two-step workflow")
    return target


def _event(env: Mapping[str, str]) -> dict[str, Any]:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        raise PrError("which pull request? pass --repo OWNER/NAME --pr N (GitHub Actions sets "
                      "GITHUB_EVENT_PATH)")
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PrError(f"cannot read the event file {path} ({exc})") from exc
    return data if isinstance(data, dict) else {}


def _from_event(repo: str, event: dict[str, Any], name: str) -> Target:
    pull = event.get("pull_request")
    if isinstance(pull, dict):
        head = _sha((pull.get("head") or {}).get("sha"), "the event's head SHA")
        base = _sha((pull.get("base") or {}).get("sha"), "the event's base SHA")
        return Target(repo, _number(pull.get("number")), head, base)
    run = event.get("workflow_run")
    if isinstance(run, dict):
        # trusted: GitHub writes this event; the artifact must agree with its head SHA
        head = _sha(run.get("head_sha"), "the workflow run's head SHA")
        numbers = {_number(p.get("number")) for p in run.get("pull_requests") or []
                   if isinstance(p, dict)}
        return Target(repo, numbers.pop() if len(numbers) == 1 else 0, head)
    raise PrError(f"the {name or 'current'} event carries no pull request: pass --pr N")


def read_artifact(folder: Path) -> tuple[int, str, Path | None]:
    """pr.json (number, head_sha) and pr.bundle from the two-step workflow's first job.

    Untrusted data: the number and SHA are validated here and cross-checked against the
    event and the API; the base SHA in it is ignored (a forged base could hide commits)."""
    meta = folder / "pr.json"
    try:
        raw = meta.read_bytes()
        if len(raw) > ARTIFACT_MAX_BYTES:
            raise PrError(f"{meta}: larger than {ARTIFACT_MAX_BYTES} bytes")
        data = json.loads(raw)
    except (OSError, ValueError) as exc:
        raise PrError(f"cannot read {meta} ({exc})") from exc
    if not isinstance(data, dict):
        raise PrError(f"{meta}: not a JSON object")
    bundle = folder / "pr.bundle"
    return (_number(data.get("number")), _sha(data.get("head_sha"), f"{meta} head_sha"),
            bundle if bundle.is_file() else None)


def _number(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 10**9:
        raise PrError(f"not a pull request number: {value!r}")
    return value


def _sha(value: Any, what: str) -> str:
    if not valid_sha(value):
        raise PrError(f"{what} is not a 40-hex commit SHA: {value!r}")
    return value


# -- 2. commits, rubric, earlier verdicts --------------------------------------
def toplevel(repo_dir: Path) -> Path:
    try:
        return Path(git(repo_dir, "rev-parse", "--show-toplevel").decode().strip())
    except SourceError as exc:
        raise PrError(f"{repo_dir} is not a git checkout ({exc})") from exc


def ensure_commits(repo: Path, shas: list[str], bundle: Path | None, log: Log) -> None:
    missing = _missing_commits(repo, shas)
    if missing and bundle is not None:
        log(f"fetching the pull request's commits from {bundle.name}")
        heads = git(repo, "bundle", "list-heads", str(bundle)).decode().split("\n")
        refs = [line.split(" ", 1)[1] for line in heads if " " in line]
        specs = [f"+{ref}:refs/claim-review/bundle/{i}" for i, ref in enumerate(refs)]
        git(repo, "-c", "fetch.fsckObjects=true", "fetch", "--no-tags", "--quiet",
            str(bundle), *specs)
        missing = _missing_commits(repo, shas)
    if missing:
        raise PrError(f"commit {short(missing[0])} is not in the checkout at {repo}: check out "
                      "with full history (actions/checkout fetch-depth: 0)")


def _missing_commits(repo: Path, shas: list[str]) -> list[str]:
    out = git(repo, "cat-file", "--batch-check=%(objecttype)",
              input_bytes="".join(f"{s}\n" for s in shas).encode()).decode().split("\n")
    return [s for s, kind in zip(shas, out, strict=False) if kind != "commit"]


def rubric_at_base(options: PrOptions, repo: Path, base: str) -> Rubric:
    """--rubric outside the checkout is the operator's file; inside it, and by default
    `.claim-review.yaml`, it is read from the base commit."""
    path = rubric_path(options, repo)
    if path is None:
        return load_rubric(options.rubric)
    where = f"base {short(base)}"
    return load_base_rubric(git_reader(repo, base, where), where, path)


def rubric_path(options: PrOptions, repo: Path) -> str | None:
    """The rubric's path in the repository; None for a file outside the checkout."""
    if options.rubric is None:
        return KB_CONFIG
    try:
        return options.rubric.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        return None


def with_options(rubric: Rubric, options: PrOptions, env: Mapping[str, str]) -> Rubric:
    """The base rubric with the command line's overrides. A judge answer cache that the
    rubric places inside the checkout is not used: the checkout may hold the pull
    request's own files (CLAIM_REVIEW_CACHE_DIR names a trusted cache; the default cache
    lives outside the checkout)."""
    if options.reviewer_key is not None and not valid_key(options.reviewer_key):
        raise PrError(f"--reviewer-key {options.reviewer_key!r} is not a valid reviewer key: "
                      f"use {KEY_RULE}")
    judge = rubric.judge
    inside = judge.cache_dir and not Path(judge.cache_dir).expanduser().is_absolute()
    no_cache = judge.cache and inside and not env.get("CLAIM_REVIEW_CACHE_DIR")
    return rubric.with_overrides(reviewer_key=options.reviewer_key, post_as=options.post_as,
                                 model=model_override(options.model, env),
                                 judge_cache=False if no_cache else None)


@dataclass
class Ours:
    """Our verdicts for one head SHA and reviewer key, in the order they were posted."""

    posts: list[Post] = field(default_factory=list)  # every post of ours carrying one
    counted: list[tuple[Post, str]] = field(default_factory=list)  # those that count
    ignored: list[tuple[Post, str]] = field(default_factory=list)  # the others, and why

    def latest(self) -> tuple[Post, str] | None:
        """The verdict in force: the last given, as `gate` orders them."""
        return self.counted[-1] if self.counted else None


def our_verdicts(posts: list[Post], me: str | None, head: str, key: str,
                 signing: bytes | None = None, trusted: bool = True) -> Ours:
    """Which of our posts carry a verdict for `head` and `key`, and which of those count,
    by the gate's own rules (`gate.read_post`): signed with `signing` when it is set, a
    review state that agrees with the marker, never edited, never dismissed. `trusted`
    False: none counts (github-actions[bot] without a signing key, see `trust_earlier`)."""
    found = Ours()
    if me is None:
        return found
    counted = []
    for post in sorted(posts, key=order):
        marker, _ = read_marker(post.body)
        if marker is None or marker.head_sha != head or marker.key != key \
                or not _mine(post, me):
            continue
        found.posts.append(post)
        valid, problem = read_post(post, {me.lower()}, signing)
        if not trusted:
            found.ignored.append((post, f"{ACTIONS_BOT} without a signing key"))
        elif valid is not None:
            counted.append(valid)
        else:
            found.ignored.append((post, problem or "not a verdict"))
    found.counted = [(m.post, m.verdict) for m in in_time_order(counted)]
    return found


def trust_earlier(me: str | None, signing: bytes | None, settings: GitHubSettings) -> bool:
    """Whether a verdict posted as `me` can be told from one somebody else posted as `me`.
    Not for github-actions[bot] without a signing key (every workflow of the repository
    posts as it) unless the rubric accepts that risk (github.trust_unsigned_actions_bot)."""
    return me is None or me.lower() != ACTIONS_BOT or not distrusts_unsigned_bot(signing,
                                                                                settings)


def _mine(post: Post, me: str | None) -> bool:
    return me is not None and post.author.lower() == me.lower()


# -- 3. the review --------------------------------------------------------------
def changed_paths(repo: Path, merge_base: str, head: str) -> set[str]:
    out = git(repo, "diff", "--name-only", "-z", "--no-renames", merge_base, head)
    return {p.decode("utf-8", "replace") for p in out.split(b"\0") if p}


def review_event(review: Review, settings: GitHubSettings) -> str:
    if review.incomplete is not None or settings.post_as == "comment":
        return "COMMENT"
    return APPROVE if review.verdict == APPROVE else REQUEST_CHANGES


# -- 5. posting -------------------------------------------------------------------
def refused(exc: GitHubError) -> bool:
    """GitHub will not take this review event from this account: a permanent 403, or a 422
    that says so. A rate limit (`exc.quota`) is never a refusal, and a 5xx is not one."""
    if exc.quota or exc.transient:
        return False
    if exc.status == 403:
        return True
    return exc.status == 422 and any(s in exc.detail.lower() for s in (
        "own pull request", "not permitted to approve", "not permitted to create or approve"))


ACTIONS_SETTING = ('"Allow GitHub Actions to create and approve pull requests" (Settings → '
                   'Actions → General → Workflow permissions)')


def _refusal(exc: GitHubError) -> str:
    """Why GitHub refused, and for the Actions token, the repository setting that decides."""
    why = _why(exc)
    if "not permitted to" in exc.detail.lower():
        why += (f"; the repository setting {ACTIONS_SETTING} lets the Actions token approve "
                "or request changes")
    return why


@dataclass
class Posting:
    client: GitHub
    number: int
    head: str
    me: str | None
    run_id: str
    log: Log
    inline_posted: int = 0

    def publish(self, body: str, event: str, comments: list[dict[str, Any]]) -> Post:
        """One review (or, refused, one COMMENT review, or one issue comment)."""
        if event != "COMMENT":
            try:
                return self.review(body, event, comments)
            except GitHubError as exc:
                if not refused(exc):
                    raise
                self.log(f"GitHub refused the {event} review ({_refusal(exc)}); posting a "
                         "COMMENT review with the same body and marker instead")
        try:
            return self.review(body, "COMMENT", comments)
        except GitHubError as exc:
            if not refused(exc):
                raise
            self.log(f"GitHub refused the COMMENT review too ({_refusal(exc)}); posting an "
                     "issue comment with the same body and marker instead")
        return self.comment(body)

    def review(self, body: str, event: str, comments: list[dict[str, Any]]) -> Post:
        def post() -> Post:
            nonlocal comments
            try:
                posted = self.client.create_review(self.number, self.head, body, event,
                                                   comments)
            except GitHubError as exc:
                if exc.status != 422 or not comments or refused(exc):
                    raise
                self.log(f"GitHub rejected the inline comments ({_why(exc)}); posting the "
                         "review without them (every finding is in the body)")
                comments = []
                posted = self.client.create_review(self.number, self.head, body, event, [])
            self.inline_posted = len(comments)
            return posted

        return self._once_more(post, lambda: self.client.reviews(self.number), "review")

    def comment(self, body: str) -> Post:
        """A new comment each time, never an edit of an earlier verdict: `gate` ignores
        edited comments (anyone with write access may edit a comment). Earlier verdicts are
        only ever edited to supersede them (`supersede`), which removes their marker."""
        return self._once_more(lambda: self.client.create_comment(self.number, body),
                               lambda: self.client.issue_comments(self.number), "comment")

    def _once_more(self, post: Callable[[], Post], listed: Callable[[], list[Post]],
                   what: str) -> Post:
        """Post; after a 5xx or a lost connection, which may or may not have posted, look
        for what this run posted before trying once more."""
        try:
            return post()
        except GitHubError as exc:
            if not exc.transient:
                raise
            found = self._ours(listed())
            if found is not None:
                self.log(f"{_why(exc)}, but the {what} was posted: {found.label}")
                return found
            self.log(f"{_why(exc)}; nothing was posted, retrying once")
        time.sleep(RETRY_DELAY)
        return post()

    def supersede(self, old: Post, new: Post) -> bool:
        """Edit `old`, a verdict of ours, so that it never counts again: its metadata and
        marker become a visible line naming `new`."""
        body = supersede(old.body, f"{new.label} {new.url}".strip())
        try:
            self.client.edit(self.number, old, body)
        except GitHubError as exc:
            self.log(f"could not supersede {old.label} ({_why(exc)}): it still carries its "
                     "verdict")
            return False
        self.log(f"superseded {old.label} by {new.label}: its verdict no longer counts")
        return True

    def _ours(self, posts: list[Post]) -> Post | None:
        """What this very run posted (its random run id is in the metadata)."""
        for post in posts:
            meta = read_meta(post.body) or {}
            if meta.get("run") == self.run_id and (self.me is None or _mine(post, self.me)):
                return post
        return None


def _why(exc: GitHubError) -> str:
    return f"{exc.status} {exc.detail}".strip() if exc.status else str(exc)


def new_run_id(env: Mapping[str, str]) -> str:
    run = env.get("GITHUB_RUN_ID", "")
    suffix = secrets.token_hex(4)
    return f"{run}.{env.get('GITHUB_RUN_ATTEMPT', '1')}.{suffix}" if run.isdigit() else suffix


def is_fork(pull: Pull, repo: str) -> bool:
    return bool(pull.head_repo) and pull.head_repo.lower() != repo.lower()


# -- the whole run ----------------------------------------------------------------
@dataclass
class PrOutcome:
    code: int
    verdict: str = ""  # APPROVE or REQUEST_CHANGES when one was given (the Action's output)
    findings: int = 0


@dataclass
class OpenPull:
    """What the run works on: the pull request at the head SHA this run is for."""

    target: Target
    client: GitHub
    pull: Pull
    head: str
    base: str
    repo: Path
    me: str | None = None
    signing: bytes | None = None  # CLAIM_REVIEW_SIGNING_KEY: signs ours, verifies earlier ones
    trusted: bool = True  # earlier verdicts posted as `me` can be trusted (`trust_earlier`)

    def ours(self, key: str) -> Ours:
        number = self.pull.number
        posts = self.client.reviews(number) + self.client.issue_comments(number)
        return our_verdicts(posts, self.me, self.head, key, self.signing, self.trusted)


def run(options: PrOptions, env: Mapping[str, str], log: Log, out: Log) -> PrOutcome:
    """Review and post; `log` takes progress lines (stderr), `out` the dry-run (stdout).
    Neither ever carries a line the Actions runner would read as a workflow command, but
    for the annotations, which are escaped where they are made."""
    log = _inert(log)
    opened = open_pull(options, env, log)
    if opened is None:
        return PrOutcome(EXIT_INCOMPLETE)
    rubric = with_options(rubric_at_base(options, opened.repo, opened.base), options, env)
    opened.trusted = trust_earlier(opened.me, opened.signing, rubric.github)
    reviewers = applying(opened, rubric)
    if len(reviewers) > 1:
        log("reviewing as " + ", ".join(f"{r.name} ({r.key})" for r in reviewers))
    outcomes = [review_as(opened, rubric if len(rubric.reviewers) == 1
                          else rubric.for_reviewer(reviewer), options, env, log, out)
                for reviewer in reviewers]
    return combined(outcomes)


def applying(opened: OpenPull, rubric: Rubric) -> list[Reviewer]:
    """The reviewers whose `covers` the change falls in: the paths it touches, the domains
    of the claims it changes, the head branch. With one reviewer, that one."""
    if len(rubric.reviewers) == 1:
        return list(rubric.reviewers)
    start = git(opened.repo, "merge-base", opened.base, opened.head).decode().strip()
    paths = sorted(changed_paths(opened.repo, start, opened.head))
    domains = change_domains(opened.repo, opened.head, paths)
    return [r for r in rubric.reviewers if r.applies(paths, domains, opened.pull.head_ref)]


def change_domains(repo: Path, head: str, paths: list[str]) -> set[str]:
    """The `domain` fields of the notes a change leaves at head (its claims' domains)."""
    from reviewer.parse import parse_claim
    from reviewer.sources import GitTreeSource

    tree = GitTreeSource(repo, head)
    notes = [p for p in paths if p.lower().endswith(".md") and tree.blob(p) is not None]
    return {domain for _path, data in tree.stream(notes)
            if (domain := parse_claim("x.md", data).field_text("domain"))}


def combined(outcomes: list[PrOutcome]) -> PrOutcome:
    """One outcome for the Action: no verdict if any reviewer gave none, else
    REQUEST_CHANGES if any requested changes, else APPROVE."""
    if len(outcomes) == 1:
        return outcomes[0]
    findings = max(o.findings for o in outcomes)
    if any(o.code == EXIT_INCOMPLETE for o in outcomes):
        return PrOutcome(EXIT_INCOMPLETE, "", findings)
    worst = max(outcomes, key=lambda o: (o.verdict == REQUEST_CHANGES, o.code))
    return PrOutcome(worst.code, worst.verdict, findings)


def review_as(opened: OpenPull, rubric: Rubric, options: PrOptions, env: Mapping[str, str],
              log: Log, out: Log) -> PrOutcome:
    """Review and post as the rubric's reviewer (one of several, or the only one)."""
    key = rubric.reviewer_key
    earlier = _earlier_verdict(opened, key, options, env, log)
    if earlier is not None:
        return earlier
    run_id = new_run_id(env)
    result, comments, body, event = compose(opened, rubric, options, run_id)
    verdict = "" if result.incomplete is not None else result.verdict
    done = PrOutcome(exit_code(result, options.fail_on), verdict, len(result.findings))
    if env.get("GITHUB_ACTIONS") == "true":
        _annotate(result, out)
    if options.dry_run:
        _print_dry_run(out, opened, event, body, comments)
        _summary(env, result, f"Dry run: nothing was posted ({event} review, "
                              f"{len(comments)} inline comments).")
        return done
    now = opened.client.pull(opened.pull.number).head_sha
    if now != opened.head:
        log(f"#{opened.pull.number} moved from {short(opened.head)} to {short(now)} while it was "
            "reviewed: the review is discarded, no verdict")
        _summary(env, result, "Discarded: the pull request's head moved during the review.")
        return PrOutcome(EXIT_INCOMPLETE)
    ours = opened.ours(key) if opened.me is not None else Ours()
    meanwhile = ours.latest()
    if meanwhile is not None and not options.force and verdict:
        post, given = meanwhile
        log(f"while this run reviewed, {post.label} gave our {key}:{given} verdict at "
            f"{short(opened.head)} ({post.url}); it stands, nothing posted")
        _summary(env, result, f"Not posted: {post.label} already gave the verdict at "
                              f"{short(opened.head)}.", post.url)
        return PrOutcome(verdict_code(given, options.fail_on), given, len(result.findings))
    posting = Posting(opened.client, opened.pull.number, opened.head, opened.me, run_id, log)
    return _post(opened, posting, result, body, event, comments, env, done,
                 ours.posts if verdict else [], key, options.fail_on)


def open_pull(options: PrOptions, env: Mapping[str, str], log: Log) -> OpenPull | None:
    """The pull request as the API has it; None when it moved past this run's head SHA."""
    target = resolve_target(options, env)
    secret = token(env)
    if not secret and not options.dry_run:
        raise PrError("GITHUB_TOKEN is not set: posting a review needs a token")
    try:
        signing = signing_key(env)
    except SigningKeyError as exc:
        raise PrError(str(exc)) from exc
    client = GitHub(target.repo, secret, api_url(options.api_url, env), log)
    pull = client.pull(target.number)
    head = target.head_sha or pull.head_sha
    if pull.head_sha != head:
        log(f"#{pull.number} has moved on to {short(pull.head_sha)} since this run started for "
            f"{short(head)}: no verdict; the run for the new head reviews it")
        return None
    # the base from a pull_request event or the API, never from an artifact
    base = target.base_sha or pull.base_sha
    repo = toplevel(options.repo_dir)
    ensure_commits(repo, [base, head], target.bundle, log)
    me = own_login(client, env) if secret else None
    return OpenPull(target, client, pull, head, base, repo, me, signing)


def _earlier_verdict(opened: OpenPull, key: str, options: PrOptions, env: Mapping[str, str],
                     log: Log) -> PrOutcome | None:
    if options.force or token(env) is None:
        return None
    if opened.me is None:
        log("cannot tell which account the token acts as (GET /user refused): "
            "not looking for an earlier review of this head")
        return None
    ours = opened.ours(key)
    if not opened.trusted and ours.posts:
        log(f"{short(opened.head)} carries {len(ours.posts)} earlier {key} verdict(s) by "
            f"{ACTIONS_BOT}, but without a signing key any workflow of the repository could "
            "have posted them: reviewing again, and superseding them")
    for post, why in ours.ignored if opened.trusted else []:
        log(f"ignored {post.label}: {why}")
    earlier = ours.latest()
    if earlier is None:
        return None
    post, verdict = earlier
    log(f"{short(opened.head)} already has our {key}:{verdict} verdict ({post.label} {post.url}); "
        "nothing posted (--force posts again)")
    return PrOutcome(verdict_code(verdict, options.fail_on), verdict)


def compose(opened: OpenPull, rubric: Rubric, options: PrOptions,
            run_id: str) -> tuple[Review, list[dict[str, Any]], str, str]:
    """The review (as `diff` computes it), its inline comments, body and event."""
    from reviewer.change import from_git
    from reviewer.inline import changed_lines, review_comments

    settings = rubric.github
    from reviewer.index import open_index

    change = from_git(opened.repo, opened.base, opened.head, rubric,
                      index=open_index(None, rubric.max_file_bytes))
    result = build_review(change, options.no_llm)
    merge_base = git(opened.repo, "merge-base", opened.base, opened.head).decode().strip()
    path = rubric_path(options, opened.repo)
    if path in changed_paths(opened.repo, merge_base, opened.head):
        result.notes.append(f"This pull request changes {path}; it was reviewed with the "
                            "base branch's rubric, as every pull request is.")
        result.rubric_impact = _rubric_impact(opened, path)
    added = changed_lines(opened.repo, merge_base, opened.head)
    comments = review_comments(result, change.ctx, added, settings.inline_comments,
                               settings.suggestions)
    meta = {"head_sha": opened.head, "key": rubric.reviewer_key, "rubric": rubric.digest(),
            "run": run_id, "version": __version__}
    body = render_markdown(result, max_chars=settings.max_body_chars, metadata=meta,
                           signing_key=opened.signing)
    return result, comments, body, review_event(result, settings)


def _rubric_impact(opened: OpenPull, path: str) -> str | None:
    """What the pull request's rubric change would do to the whole base: the table a
    reviewer needs before a person merges it. Best effort: a rubric that does not load
    at head is already in the review, unreviewed."""
    from reviewer.impact import impact_of_change, impact_table
    from reviewer.rubric import RubricError

    try:
        impact = impact_of_change(opened.repo, opened.base, opened.head, path)
    except (RubricError, SourceError) as exc:
        return f"The rubric at the head does not load ({exc}); no impact measured."
    return impact_table(impact, markdown=True) if impact is not None else None


def _post(opened: OpenPull, posting: Posting, result: Review, body: str, event: str,
          comments: list[dict[str, Any]], env: Mapping[str, str], done: PrOutcome,
          replaced: list[Post], key: str, fail_on: str) -> PrOutcome:
    log = posting.log
    try:
        posted = posting.publish(body, event, comments)
    except GitHubError as exc:
        if refused(exc) and exc.status == 403 and is_fork(opened.pull, opened.target.repo):
            log(f"cannot post on a pull request from a fork with this token ({_why(exc)}): "
                "the review is in the job summary and annotations; the two-step workflow "
                "posts it")
            _summary(env, result, "Not posted: a pull_request run from a fork has a read-only "
                                  "token.")
            return done
        raise
    what = f"a {posted.state} review" if posted.kind == "review" else "an issue comment"
    where = f"{posted.label} {posted.url}".strip()
    log(f"posted {what} on {opened.target.repo}#{opened.pull.number} at {short(opened.head)} with "
        f"{posting.inline_posted} inline comments: {where}")
    if not done.verdict:  # no marker: nothing to supersede or reconcile
        _summary(env, result, f"Posted as {posted.label} at {short(opened.head)}.", posted.url)
        return done
    winner = settle(opened, posting, posted, replaced, key)
    if winner is not None:
        post, verdict = winner
        _summary(env, result, f"Posted as {posted.label} at {short(opened.head)}, then "
                              f"superseded: {post.label}, posted first by a concurrent run, "
                              "stands.", post.url)
        return PrOutcome(verdict_code(verdict, fail_on), verdict, done.findings)
    _summary(env, result, f"Posted as {posted.label} at {short(opened.head)}.", posted.url)
    return done


def settle(opened: OpenPull, posting: Posting, posted: Post, replaced: list[Post],
           key: str) -> tuple[Post, str] | None:
    """After posting: supersede the verdicts `posted` replaces (ours at this head, read
    right before posting), then reconcile with runs that posted for the same head at the
    same time. Exactly one verdict stays in force: the earliest that counts, or, for
    github-actions[bot] without a signing key, this run's own. Returns the verdict in force
    when it is not `posted` (this run's post is then superseded by it)."""
    log = posting.log
    if opened.me is None:
        log("cannot tell which account the token acts as: not superseding earlier verdicts")
        return None
    for old in replaced:
        posting.supersede(old, posted)
    try:
        now = opened.ours(key)
    except GitHubError as exc:
        log(f"could not re-read the verdicts after posting ({_why(exc)}): not reconciling "
            "with concurrent runs")
        return None
    done = {(p.kind, p.id) for p in replaced} | {(posted.kind, posted.id)}
    mine = next((p for p in now.posts if (p.kind, p.id) == (posted.kind, posted.id)), posted)
    counted = {(p.kind, p.id): verdict for p, verdict in now.counted}
    rivals = [p for p in now.posts if (p.kind, p.id) not in done]
    first = [p for p in rivals if (p.kind, p.id) in counted and order(p) < order(mine)]
    if opened.trusted and first:
        winner = first[0]  # in posting order: the earliest that counts
        log(f"a concurrent run posted {winner.label} for {short(opened.head)} first; it stays "
            f"in force, this run's {posted.label} gives way")
        posting.supersede(mine, winner)
        return winner, counted[(winner.kind, winner.id)]
    for rival in rivals:
        # a later one that counts is its own run's to supersede; one that does not count
        # (or any, when none can be trusted) is superseded here
        if not opened.trusted or (rival.kind, rival.id) not in counted:
            posting.supersede(rival, mine)
    return None


def _annotate(review: Review, out: Log) -> None:
    from reviewer.render.annotations import workflow_commands

    for line in workflow_commands(review):
        out(line)


def _summary(env: Mapping[str, str], review: Review, outcome: str, url: str = "") -> None:
    from reviewer.render.annotations import job_summary

    path = env.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(job_summary(review, outcome, url))


def write_outputs(env: Mapping[str, str], outcome: PrOutcome) -> None:
    """The Action's outputs: `verdict` (empty without one) and `findings` (a count)."""
    path = env.get("GITHUB_OUTPUT")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"verdict={outcome.verdict}\nfindings={outcome.findings}\n")


def _print_dry_run(out: Log, opened: OpenPull, event: str, body: str,
                   comments: list[dict[str, Any]]) -> None:
    """The body and inline comments as they would be posted. Claim text reaches them (a
    suggestion block quotes a claim's line), so every line is made inert: none can issue
    a workflow command (`render.annotations.inert`)."""
    from reviewer.render.annotations import inert

    out(inert(f"# dry run: would post a {event} review on {opened.target.repo}#"
              f"{opened.pull.number} at commit {opened.head}, with {len(comments)} inline "
              "comments"))
    out(inert(body.rstrip("\n")))
    for c in comments:
        out(inert(f"\n# inline comment on {c['path']}:{c['line']}\n{c['body']}"))


def _inert(log: Log) -> Log:
    from reviewer.render.annotations import inert

    return lambda line: log(inert(line))
