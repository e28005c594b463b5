"""The GitHub REST API: the only module that imports PyGithub, and only when a command needs it.

Everything else sees plain dataclasses (`Pull`, `Post`, `ChangedFiles`) and one exception,
`GitHubError`, whose text is a single line: what was asked, the HTTP status and GitHub's
own message.

The retry policy for GitHub lives here, in `GitHub._call`, and nowhere else. Each failed
request is classified (`classify`):

- **quota**: a 429, or a 403 that carries a rate-limit signal ("rate limit" in GitHub's
  message, a `Retry-After` header, `x-ratelimit-remaining: 0`). GitHub did not act on the
  request, so any request, a POST included, is retried after the wait GitHub asks for, as
  long as that wait is at most `MAX_QUOTA_WAIT`. It is never a refusal.
- **transient**: a 5xx or a lost connection. Reads and edits (GET, PUT, PATCH: the same
  request twice has the same effect) are retried with bounded backoff. A POST may have
  taken effect, so it is not retried here: the caller first looks for what it posted
  (`pr.Posting._once_more`).
- **permanent**: anything else (401, 404, 422, a 403 without a rate-limit signal).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

DEFAULT_API_URL = "https://api.github.com"
TIMEOUT = 30  # seconds per request
PER_PAGE = 100  # GitHub's largest page; pagination follows the Link headers
WRITE_INTERVAL = 1.0  # GitHub asks for a pause between content-creating requests
ACTIONS_BOT = "github-actions[bot]"  # the author of everything GITHUB_TOKEN posts
FILES_LISTED_AT_MOST = 3000  # GitHub's files API stops listing a pull request's files here

TRANSIENT, QUOTA, PERMANENT = "transient", "quota", "permanent"
ATTEMPTS = 4  # tries of an idempotent request that keeps failing transiently
BACKOFF = 1.0  # seconds before the first retry; doubled each time, at most MAX_BACKOFF
MAX_BACKOFF = 8.0
QUOTA_RETRIES = 3  # waits for a rate limit, per request
MAX_QUOTA_WAIT = 90.0  # seconds; a longer wait is reported as an error, never sat out
SECONDARY_WAIT = 60.0  # GitHub's advice when a secondary rate limit names no time
T = TypeVar("T")


def pause(seconds: float) -> None:
    """Every wait of this module (tests replace it to run without waiting)."""
    time.sleep(seconds)


class GitHubError(Exception):
    """An API call that failed: `status` is None when no HTTP answer came back. `kind` is
    `transient`, `quota` or `permanent` (see the module docstring)."""

    def __init__(self, message: str, status: int | None = None, detail: str = "",
                 kind: str | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.detail = detail  # GitHub's own message and errors
        self.kind = kind or (TRANSIENT if status is None or status >= 500 else PERMANENT)
        self.retry_after = retry_after  # seconds GitHub asks to wait (quota errors)

    @property
    def transient(self) -> bool:
        """A 5xx or a lost connection: the request may or may not have taken effect."""
        return self.kind == TRANSIENT

    @property
    def quota(self) -> bool:
        """A rate limit: GitHub did not act on the request; it may be sent again later."""
        return self.kind == QUOTA


@dataclass
class Pull:
    number: int
    head_sha: str
    base_sha: str
    head_ref: str
    head_repo: str  # OWNER/NAME of the head branch; differs from the base for forks
    author: str
    body: str
    state: str
    draft: bool
    merged: bool
    changed_files: int | None = None  # GitHub's count; None when the answer lacks it


@dataclass
class ChangedFiles:
    """The files API's answer: `paths` holds every path (old names of renames too);
    `listed` is how many files it listed, to compare with `Pull.changed_files`."""

    paths: list[str] = field(default_factory=list)
    listed: int = 0


@dataclass
class Post:
    """A pull request review or an issue comment, as the marker protocol reads it."""

    kind: str  # "review" or "comment"
    id: int
    author: str
    body: str
    when: datetime
    url: str = ""
    commit_id: str | None = None  # reviews only: the commit the review was made on
    state: str | None = None  # reviews only: APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED
    edited: bool = False  # comments only: changed after posting (updated_at > created_at)

    @property
    def label(self) -> str:
        return f"{'review' if self.kind == 'review' else 'issue comment'} {self.id}"


class GitHub:
    """One repository on one GitHub (github.com or an Enterprise Server API URL). `log`
    takes a line for each retry or wait, so a run's log says why it took longer."""

    def __init__(self, repo: str, token: str | None, api_url: str = DEFAULT_API_URL,
                 log: Callable[[str], None] | None = None):
        from github import Auth, Github

        auth = Auth.Token(token) if token else None
        # retry=None: a retry is our decision (`_call`), never PyGithub's or urllib3's
        self._gh = Github(auth=auth, base_url=api_url.rstrip("/"), timeout=TIMEOUT,
                          per_page=PER_PAGE, retry=None, lazy=True,
                          seconds_between_requests=None,
                          seconds_between_writes=WRITE_INTERVAL or None)
        self._repo = self._gh.get_repo(repo)
        self._log = log or (lambda line: None)

    # -- the retry policy ----------------------------------------------------
    def _call(self, what: str, request: Callable[[], T], idempotent: bool = True) -> T:
        """`request()`, retried as the module docstring says; GitHubError when it fails."""
        tries, waits, delay = 1, 0, BACKOFF
        while True:
            try:
                with _api(what):
                    return request()
            except GitHubError as exc:
                if exc.quota:
                    wait = SECONDARY_WAIT if exc.retry_after is None else exc.retry_after
                    if waits >= QUOTA_RETRIES or wait > MAX_QUOTA_WAIT:
                        raise GitHubError(f"{exc} (rate limited: GitHub asks to wait "
                                          f"{wait:.0f} s; claim-review waits at most "
                                          f"{MAX_QUOTA_WAIT:.0f} s, {QUOTA_RETRIES} times)",
                                          exc.status, exc.detail, QUOTA, wait) from exc
                    waits += 1
                    self._log(f"{exc}: rate limited, waiting {wait:.0f} s as GitHub asks")
                    pause(wait)
                    continue
                if exc.transient and idempotent and tries < ATTEMPTS:
                    tries += 1
                    self._log(f"{exc}: retrying in {delay:.0f} s")
                    pause(delay)
                    delay = min(delay * 2, MAX_BACKOFF)
                    continue
                raise

    # -- reading -------------------------------------------------------------
    def pull(self, number: int) -> Pull:
        def read() -> Pull:
            raw = self._repo.get_pull(number).raw_data
            head, base = raw.get("head") or {}, raw.get("base") or {}
            count = raw.get("changed_files")
            return Pull(number=int(raw["number"]), head_sha=str(head["sha"]),
                        base_sha=str(base["sha"]), head_ref=str(head.get("ref") or ""),
                        head_repo=str(((head.get("repo") or {}).get("full_name")) or ""),
                        author=_login(raw.get("user")), body=str(raw.get("body") or ""),
                        state=str(raw.get("state") or ""), draft=bool(raw.get("draft")),
                        merged=bool(raw.get("merged")),
                        changed_files=count if isinstance(count, int)
                        and not isinstance(count, bool) and count >= 0 else None)

        return self._call(f"read pull request #{number}", read)

    def login(self) -> str | None:
        """The account the token acts as; None when GitHub will not say (app tokens)."""
        try:
            return self._call("read the token's account (GET /user)",
                              lambda: str(self._gh.get_user().login))
        except GitHubError as exc:
            if exc.status in (401, 403, 404) and not exc.quota:
                return None
            raise

    def reviews(self, number: int) -> list[Post]:
        return self._call(f"list the reviews of #{number}", lambda: [
            _review(r.raw_data) for r in self._pull(number).get_reviews()])

    def issue_comments(self, number: int) -> list[Post]:
        return self._call(f"list the comments of #{number}", lambda: [
            _comment(c) for c in self._pull(number).get_issue_comments()])

    def files(self, number: int) -> ChangedFiles:
        """Every path the pull request touches, old names of renames included, as far as
        the files API lists them (at most `FILES_LISTED_AT_MOST` files)."""
        def read() -> ChangedFiles:
            found = ChangedFiles()
            for f in self._pull(number).get_files():
                raw = f.raw_data
                found.listed += 1
                found.paths.append(str(raw["filename"]))
                if raw.get("previous_filename"):
                    found.paths.append(str(raw["previous_filename"]))
            return found

        return self._call(f"list the files of #{number}", read)

    def file_text(self, path: str, ref: str) -> str | None:
        """A file of the repository at `ref`, or None when it does not exist there."""
        try:
            return self._call(f"read {path} at {ref[:12]}", lambda: self._repo.get_contents(
                path, ref=ref).decoded_content.decode("utf-8"))
        except GitHubError as exc:
            if exc.status == 404:
                return None
            raise

    # -- writing -------------------------------------------------------------
    def create_review(self, number: int, commit_sha: str, body: str, event: str,
                      comments: list[dict[str, Any]]) -> Post:
        from github.Commit import Commit

        def post() -> Post:
            pull = self._pull(number)
            commit = Commit(pull.requester, {}, {"sha": commit_sha}, completed=True)
            review = pull.create_review(commit=commit, body=body, event=event,
                                        comments=comments)
            return _review(review.raw_data)

        return self._call(f"post a {event} review on #{number}", post, idempotent=False)

    def create_comment(self, number: int, body: str) -> Post:
        return self._call(f"post a comment on #{number}",
                          lambda: _comment(self._pull(number).create_issue_comment(body)),
                          idempotent=False)

    def edit(self, number: int, post: Post, body: str) -> None:
        """Replace the body of a review (PUT) or an issue comment (PATCH) of ours."""
        from github.IssueComment import IssueComment
        from github.PullRequestReview import PullRequestReview

        requester = self._repo.requester

        def put() -> None:
            if post.kind == "review":
                PullRequestReview(requester, {}, {
                    "id": post.id, "pull_request_url": f"{self._repo.url}/pulls/{number}",
                }).edit(body)
            else:
                IssueComment(requester, url=f"{self._repo.url}/issues/comments/{post.id}",
                             completed=True).edit(body)

        self._call(f"edit {post.label} on #{number}", put)

    def _pull(self, number: int):
        return self._repo.get_pull(number)


def api_url(option: str | None, env: Mapping[str, str]) -> str:
    """GITHUB_API_URL (Actions sets it, also on Enterprise Server), else --api-url."""
    return env.get("GITHUB_API_URL") or option or DEFAULT_API_URL


def token(env: Mapping[str, str]) -> str | None:
    return env.get("GITHUB_TOKEN") or env.get("GH_TOKEN") or None


def own_login(client: GitHub, env: Mapping[str, str]) -> str | None:
    """The token's account. An Actions GITHUB_TOKEN may not read /user; it posts as the bot."""
    login = client.login()
    if login is None and env.get("GITHUB_ACTIONS") == "true":
        return ACTIONS_BOT
    return login


def classify(status: int | None, detail: str, headers: Mapping[str, Any] | None
             ) -> tuple[str, float | None]:
    """(kind, seconds to wait) of a failed request; see the module docstring."""
    if status is None or status >= 500:
        return TRANSIENT, None
    if status not in (403, 429):
        return PERMANENT, None
    seen = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
    wait = _retry_after(seen.get("retry-after"))
    exhausted = seen.get("x-ratelimit-remaining", "").strip() == "0"
    if wait is None and exhausted:
        reset = _number(seen.get("x-ratelimit-reset"))
        wait = max(0.0, reset - time.time()) + 1.0 if reset is not None else None
    if status == 429 or "rate limit" in detail.lower() or exhausted \
            or seen.get("retry-after") is not None:
        return QUOTA, wait
    return PERMANENT, None


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds, or as an HTTP date."""
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _number(value: str | None) -> float | None:
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


@contextlib.contextmanager
def _api(what: str) -> Iterator[None]:
    """PyGithub and connection errors become one GitHubError line, classified."""
    import requests
    from github.GithubException import GithubException

    try:
        yield
    except GithubException as exc:
        detail = _detail(exc.data)
        text = f"{exc.status} {detail}" if detail else str(exc.status)
        kind, wait = classify(exc.status, detail, exc.headers)
        raise GitHubError(f"GitHub API: could not {what}: {text}", exc.status, detail,
                          kind, wait) from exc
    except requests.exceptions.RequestException as exc:
        reason = type(exc).__name__
        raise GitHubError(f"GitHub API: could not {what}: {reason} ({_first_line(exc)})") \
            from exc
    except GitHubError:
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. a malformed answer: one line, fail closed
        raise GitHubError(f"GitHub API: could not {what}: unexpected answer "
                          f"({type(exc).__name__}: {_first_line(exc)})") from exc


def _detail(data: Any) -> str:
    if not isinstance(data, dict):
        return _first_line(data) if data else ""
    parts = [str(data.get("message") or "")]
    for error in data.get("errors") or []:
        parts.append(str(error.get("message") or error) if isinstance(error, dict) else str(error))
    return "; ".join(p for p in parts if p)


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0][:300] if text else ""


def _login(user: Any) -> str:
    return str((user or {}).get("login") or "") if isinstance(user, dict) else ""


def _time(value: Any) -> datetime:
    if not value:
        return datetime.min.replace(tzinfo=timezone.utc)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _review(raw: dict[str, Any]) -> Post:
    return Post("review", int(raw["id"]), _login(raw.get("user")), str(raw.get("body") or ""),
                _time(raw.get("submitted_at")), str(raw.get("html_url") or ""),
                commit_id=raw.get("commit_id"), state=raw.get("state"))


def _comment(comment: Any) -> Post:
    """From attributes, not `raw_data`: that would fetch every listed comment again."""
    created, updated = comment.created_at, comment.updated_at
    user = comment.user.login if comment.user is not None else ""
    return Post("comment", int(comment.id), str(user or ""), str(comment.body or ""),
                created or _time(None), str(comment.html_url or ""),
                edited=bool(created and updated and updated > created))
