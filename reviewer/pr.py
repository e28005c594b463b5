"""`claim-review pr`: review a pull request from git objects and post the review on GitHub.

The flow, top to bottom:

1. target: which repository, pull request and head SHA (the Actions event, a two-step
   artifact, or --repo/--pr), then the pull request as the API has it now;
2. the rubric of the *base* commit (a pull request never reviews itself with its own
   rubric), and an early exit when this head SHA already carries our verdict;
3. the change from git (`from_git`, as `diff`), the review (`build_review`), inline
   comments for findings on changed lines, the body with hidden metadata and the marker;
4. the head re-read: a head that moved while we reviewed discards the result;
5. one post, falling back from a refused APPROVE/REQUEST_CHANGES review to a COMMENT
   review, then to an issue comment, never the other way round.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewer import __version__
from reviewer.base_rubric import GitHubSettings, github_settings, load_base_rubric
from reviewer.engine import APPROVE, REQUEST_CHANGES, Review
from reviewer.gate import read_marker, read_meta, short
from reviewer.github import GitHub, GitHubError, Post, Pull, api_url, own_login, token
from reviewer.render.markdown import render_markdown
from reviewer.rubric import KB_CONFIG, Rubric, RubricError, load_rubric
from reviewer.sources import SourceError, git

EXIT_APPROVE, EXIT_CHANGES, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
SHA = re.compile(r"[0-9a-f]{40}")
REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
KEY = re.compile(r"[A-Za-z0-9_-]+")
RETRY_DELAY = 2.0  # seconds before re-posting after a 5xx that did not post
ARTIFACT_MAX_BYTES = 10_000
Log = Callable[[str], None]


class PrError(Exception):
    """A usage, configuration or environment problem: exit 2 with this one line."""


@dataclass
class Options:
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
def resolve_target(o: Options, env: Mapping[str, str]) -> Target:
    repo = o.repo or env.get("GITHUB_REPOSITORY", "")
    if not REPO.fullmatch(repo):
        raise PrError("which repository? pass --repo OWNER/NAME (GitHub Actions sets "
                      "GITHUB_REPOSITORY)" if not repo else f"--repo must be OWNER/NAME, not "
                      f"{repo!r}")
    art = read_artifact(o.artifact) if o.artifact else None
    if o.pr is not None:
        target = Target(repo, o.pr)
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
    if not isinstance(value, str) or not SHA.fullmatch(value):
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


def rubric_at_base(o: Options, repo: Path, base: str) -> Rubric:
    """--rubric outside the checkout is the operator's file; inside it, and by default
    `.claim-review.yaml`, it is read from the base commit."""
    def read(path: str) -> str | None:
        out = git(repo, "cat-file", "--batch", input_bytes=f"{base}:{path}\n".encode())
        header, _, rest = out.partition(b"\n")
        if header.split()[1:2] != [b"blob"]:  # "<name> missing", or a tree
            return None
        size = int(header.split()[2])
        try:
            return rest[:size].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RubricError(f"base {short(base)}:{path}: rubric is not UTF-8") from exc

    path = rubric_path(o, repo)
    if path is None:
        return load_rubric(o.rubric)
    return load_base_rubric(read, f"base {short(base)}", path)


def rubric_path(o: Options, repo: Path) -> str | None:
    """The rubric's path in the repository; None for a file outside the checkout."""
    if o.rubric is None:
        return KB_CONFIG
    try:
        return o.rubric.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        return None


def apply_overrides(rubric: Rubric, o: Options) -> GitHubSettings:
    if o.reviewer_key is not None:
        if not KEY.fullmatch(o.reviewer_key):
            raise PrError(f"--reviewer-key must be letters, digits, '-' or '_' "
                          f"(got {o.reviewer_key!r})")
        rubric.data["reviewer"]["key"] = o.reviewer_key
    if o.post_as is not None:
        rubric.data.setdefault("github", {})["post_as"] = o.post_as
    return github_settings(rubric)


def our_verdict(posts: list[Post], me: str | None, head: str, key: str) -> tuple[Post, str] | None:
    """The latest verdict we already gave at this head SHA, if any."""
    found = None
    for post in sorted(posts, key=lambda p: (p.when, p.id)):
        marker, _ = read_marker(post)
        if marker and marker.head_sha == head and marker.key == key and _mine(post, me):
            found = (post, marker.verdict)
    return found


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
    """GitHub will not take this review event from this account (not a transient error)."""
    if exc.status == 403:
        return True
    return exc.status == 422 and any(s in exc.detail.lower() for s in (
        "own pull request", "not permitted to approve", "not permitted to create or approve"))


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
                self.log(f"GitHub refused the {event} review ({_why(exc)}); posting a COMMENT "
                         "review with the same body and marker instead")
        try:
            return self.review(body, "COMMENT", comments)
        except GitHubError as exc:
            if not refused(exc):
                raise
            self.log(f"GitHub refused the COMMENT review too ({_why(exc)}); posting an issue "
                     "comment with the same body and marker instead")
        return self.comment(body)

    def review(self, body: str, event: str, comments: list[dict[str, Any]]) -> Post:
        retried = False
        while True:
            try:
                posted = self.client.create_review(self.number, self.head, body, event,
                                                   comments)
                self.inline_posted = len(comments)
                return posted
            except GitHubError as exc:
                if exc.status == 422 and comments and not refused(exc):
                    self.log(f"GitHub rejected the inline comments ({_why(exc)}); posting the "
                             "review without them (every finding is in the body)")
                    comments = []
                    continue
                if not exc.transient or retried:
                    raise
                found = self._ours(self.client.reviews(self.number))
                if found is not None:
                    self.log(f"{_why(exc)}, but the review was posted: {found.label}")
                    return found
                self.log(f"{_why(exc)}; nothing was posted, retrying once")
                retried = True
                time.sleep(RETRY_DELAY)

    def comment(self, body: str) -> Post:
        """A new comment each time: `gate` ignores edited ones (anyone with write access
        may edit a comment), so an earlier verdict is never rewritten."""
        try:
            return self.client.create_comment(self.number, body)
        except GitHubError as exc:
            if not exc.transient:
                raise
            found = self._ours(self.client.issue_comments(self.number))
            if found is not None:
                self.log(f"{_why(exc)}, but the comment was posted: {found.label}")
                return found
            self.log(f"{_why(exc)}; nothing was posted, retrying once")
            time.sleep(RETRY_DELAY)
            return self.client.create_comment(self.number, body)

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
class Outcome:
    code: int
    verdict: str = ""  # APPROVE or REQUEST_CHANGES when one was given (the Action's output)
    findings: int = 0


@dataclass
class Context:
    """What the run works on: the pull request at the head SHA this run is for."""

    target: Target
    client: GitHub
    pull: Pull
    head: str
    base: str
    repo: Path
    me: str | None = None


def run(o: Options, env: Mapping[str, str], log: Log, out: Log) -> Outcome:
    """Review and post; `log` takes progress lines (stderr), `out` the dry-run (stdout)."""
    ctx = open_pull(o, env, log)
    if ctx is None:
        return Outcome(EXIT_INCOMPLETE)
    rubric = rubric_at_base(o, ctx.repo, ctx.base)
    settings = apply_overrides(rubric, o)
    _no_checkout_cache(rubric, env)
    earlier = _earlier_verdict(ctx, rubric.reviewer_key, o, env, log)
    if earlier is not None:
        return earlier
    run_id = new_run_id(env)
    result, comments, body, event = compose(ctx, rubric, settings, o, run_id)
    verdict = "" if result.incomplete is not None else result.verdict
    done = Outcome(_result_code(result, o.fail_on), verdict, len(result.findings))
    if env.get("GITHUB_ACTIONS") == "true":
        _annotate(result, out)
    if o.dry_run:
        _print_dry_run(out, ctx, event, body, comments)
        _summary(env, result, f"Dry run: nothing was posted ({event} review, "
                              f"{len(comments)} inline comments).")
        return done
    now = ctx.client.pull(ctx.pull.number).head_sha
    if now != ctx.head:
        log(f"#{ctx.pull.number} moved from {short(ctx.head)} to {short(now)} while it was "
            "reviewed: the review is discarded, no verdict")
        _summary(env, result, "Discarded: the pull request's head moved during the review.")
        return Outcome(EXIT_INCOMPLETE)
    posting = Posting(ctx.client, ctx.pull.number, ctx.head, ctx.me, run_id, log)
    return _post(ctx, posting, result, body, event, comments, env, done)


def open_pull(o: Options, env: Mapping[str, str], log: Log) -> Context | None:
    """The pull request as the API has it; None when it moved past this run's head SHA."""
    target = resolve_target(o, env)
    secret = token(env)
    if not secret and not o.dry_run:
        raise PrError("GITHUB_TOKEN is not set: posting a review needs a token")
    client = GitHub(target.repo, secret, api_url(o.api_url, env))
    pull = client.pull(target.number)
    head = target.head_sha or pull.head_sha
    if pull.head_sha != head:
        log(f"#{pull.number} has moved on to {short(pull.head_sha)} since this run started for "
            f"{short(head)}: no verdict; the run for the new head reviews it")
        return None
    # the base from a pull_request event or the API, never from an artifact
    base = target.base_sha or pull.base_sha
    repo = toplevel(o.repo_dir)
    ensure_commits(repo, [base, head], target.bundle, log)
    me = own_login(client, env) if secret else None
    return Context(target, client, pull, head, base, repo, me)


def _no_checkout_cache(rubric: Rubric, env: Mapping[str, str]) -> None:
    """The checkout may hold the pull request's own files: a judge answer cache the rubric
    places inside it must not be read (CLAIM_REVIEW_CACHE_DIR names a trusted cache; the
    default cache lives outside the checkout)."""
    judge = rubric.data.get("judge") or {}
    inside = judge.get("cache_dir") and not Path(str(judge["cache_dir"])).expanduser().is_absolute()
    if judge.get("cache") and inside and not env.get("CLAIM_REVIEW_CACHE_DIR"):
        judge["cache"] = False


def _earlier_verdict(ctx: Context, key: str, o: Options, env: Mapping[str, str],
                     log: Log) -> Outcome | None:
    if o.force or token(env) is None:
        return None
    if ctx.me is None:
        log("cannot tell which account the token acts as (GET /user refused): "
            "not looking for an earlier review of this head")
        return None
    number = ctx.pull.number
    earlier = our_verdict(ctx.client.reviews(number) + ctx.client.issue_comments(number),
                          ctx.me, ctx.head, key)
    if earlier is None:
        return None
    post, verdict = earlier
    log(f"{short(ctx.head)} already has our {key}:{verdict} verdict ({post.label} {post.url}); "
        "nothing posted (--force posts again)")
    return Outcome(_code(verdict, o.fail_on), verdict)


def compose(ctx: Context, rubric: Rubric, settings: GitHubSettings, o: Options,
            run_id: str) -> tuple[Review, list[dict[str, Any]], str, str]:
    """The review (as `diff` computes it), its inline comments, body and event."""
    from reviewer.change import from_git
    from reviewer.cli import build_review
    from reviewer.inline import changed_lines, review_comments

    change = from_git(ctx.repo, ctx.base, ctx.head, rubric)
    result = build_review(change, o.no_llm, o.model)
    merge_base = git(ctx.repo, "merge-base", ctx.base, ctx.head).decode().strip()
    path = rubric_path(o, ctx.repo)
    if path in changed_paths(ctx.repo, merge_base, ctx.head):
        result.notes.append(f"This pull request changes {path}; it was reviewed with the "
                            "base branch's rubric, as every pull request is.")
    comments = review_comments(result, change.ctx, changed_lines(ctx.repo, merge_base, ctx.head),
                               settings.inline_comments, settings.suggestions)
    meta = {"head_sha": ctx.head, "key": rubric.reviewer_key, "rubric": rubric.digest(),
            "run": run_id, "version": __version__}
    body = render_markdown(result, max_chars=settings.max_body_chars, metadata=meta)
    return result, comments, body, review_event(result, settings)


def _post(ctx: Context, posting: Posting, result: Review, body: str, event: str,
          comments: list[dict[str, Any]], env: Mapping[str, str], done: Outcome) -> Outcome:
    log = posting.log
    try:
        posted = posting.publish(body, event, comments)
    except GitHubError as exc:
        if exc.status == 403 and is_fork(ctx.pull, ctx.target.repo):
            log(f"cannot post on a pull request from a fork with this token ({_why(exc)}): "
                "the review is in the job summary and annotations; the two-step workflow "
                "posts it")
            _summary(env, result, "Not posted: a pull_request run from a fork has a read-only "
                                  "token.")
            return done
        raise
    what = f"a {posted.state} review" if posted.kind == "review" else "an issue comment"
    where = f"{posted.label} {posted.url}".strip()
    log(f"posted {what} on {ctx.target.repo}#{ctx.pull.number} at {short(ctx.head)} with "
        f"{posting.inline_posted} inline comments: {where}")
    _summary(env, result, f"Posted as {where} at {short(ctx.head)}.")
    return done


def _code(verdict: str, fail_on: str) -> int:
    if verdict == REQUEST_CHANGES and fail_on != "never":
        return EXIT_CHANGES
    return EXIT_APPROVE


def _result_code(review: Review, fail_on: str) -> int:
    if review.incomplete is not None:
        return EXIT_INCOMPLETE
    return _code(review.verdict, fail_on)


def _annotate(review: Review, out: Log) -> None:
    from reviewer.render.annotations import workflow_commands

    for line in workflow_commands(review):
        out(line)


def _summary(env: Mapping[str, str], review: Review, outcome: str) -> None:
    from reviewer.render.annotations import job_summary

    path = env.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(job_summary(review, outcome))


def write_outputs(env: Mapping[str, str], outcome: Outcome) -> None:
    """The Action's outputs: `verdict` (empty without one) and `findings` (a count)."""
    path = env.get("GITHUB_OUTPUT")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"verdict={outcome.verdict}\nfindings={outcome.findings}\n")


def _print_dry_run(out: Log, ctx: Context, event: str, body: str,
                   comments: list[dict[str, Any]]) -> None:
    out(f"# dry run: would post a {event} review on {ctx.target.repo}#{ctx.pull.number} at "
        f"commit {ctx.head}, with {len(comments)} inline comments")
    out(body.rstrip("\n"))
    for c in comments:
        out(f"\n# inline comment on {c['path']}:{c['line']}\n{c['body']}")
