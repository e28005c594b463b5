"""The GitHub REST API: the only module that imports PyGithub, and only when a command needs it.

Everything else sees plain dataclasses (`Pull`, `Post`) and one exception, `GitHubError`,
whose text is a single line: what was asked, the HTTP status and GitHub's own message.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

DEFAULT_API_URL = "https://api.github.com"
TIMEOUT = 30  # seconds per request
PER_PAGE = 100  # GitHub's largest page; pagination follows the Link headers
WRITE_INTERVAL = 1.0  # GitHub asks for a pause between content-creating requests
ACTIONS_BOT = "github-actions[bot]"  # the author of everything GITHUB_TOKEN posts


class GitHubError(Exception):
    """An API call that failed: `status` is None when no HTTP answer came back."""

    def __init__(self, message: str, status: int | None = None, detail: str = ""):
        super().__init__(message)
        self.status = status
        self.detail = detail  # GitHub's own message and errors

    @property
    def transient(self) -> bool:
        """A 5xx or a lost connection: the request may or may not have taken effect."""
        return self.status is None or self.status >= 500


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
    """One repository on one GitHub (github.com or an Enterprise Server API URL)."""

    def __init__(self, repo: str, token: str | None, api_url: str = DEFAULT_API_URL):
        from github import Auth, Github

        auth = Auth.Token(token) if token else None
        # retry=None: a retry is our decision (after a 5xx we first look for what we posted)
        self._gh = Github(auth=auth, base_url=api_url.rstrip("/"), timeout=TIMEOUT,
                          per_page=PER_PAGE, retry=None, lazy=True,
                          seconds_between_requests=None,
                          seconds_between_writes=WRITE_INTERVAL or None)
        self._repo = self._gh.get_repo(repo)

    # -- reading -------------------------------------------------------------
    def pull(self, number: int) -> Pull:
        with _api(f"read pull request #{number}"):
            raw = self._repo.get_pull(number).raw_data
            head, base = raw.get("head") or {}, raw.get("base") or {}
            return Pull(number=int(raw["number"]), head_sha=str(head["sha"]),
                        base_sha=str(base["sha"]), head_ref=str(head.get("ref") or ""),
                        head_repo=str(((head.get("repo") or {}).get("full_name")) or ""),
                        author=_login(raw.get("user")), body=str(raw.get("body") or ""),
                        state=str(raw.get("state") or ""), draft=bool(raw.get("draft")),
                        merged=bool(raw.get("merged")))

    def login(self) -> str | None:
        """The account the token acts as; None when GitHub will not say (app tokens)."""
        try:
            with _api("read the token's account (GET /user)"):
                return str(self._gh.get_user().login)
        except GitHubError as exc:
            if exc.status in (401, 403, 404):
                return None
            raise

    def reviews(self, number: int) -> list[Post]:
        with _api(f"list the reviews of #{number}"):
            return [_review(r.raw_data) for r in self._pull(number).get_reviews()]

    def issue_comments(self, number: int) -> list[Post]:
        with _api(f"list the comments of #{number}"):
            return [_comment(c) for c in self._pull(number).get_issue_comments()]

    def files(self, number: int) -> list[str]:
        """Every path the pull request touches, old names of renames included."""
        with _api(f"list the files of #{number}"):
            paths = []
            for f in self._pull(number).get_files():
                raw = f.raw_data
                paths.append(str(raw["filename"]))
                if raw.get("previous_filename"):
                    paths.append(str(raw["previous_filename"]))
            return paths

    def file_text(self, path: str, ref: str) -> str | None:
        """A file of the repository at `ref`, or None when it does not exist there."""
        try:
            with _api(f"read {path} at {ref[:12]}"):
                return self._repo.get_contents(path, ref=ref).decoded_content.decode("utf-8")
        except GitHubError as exc:
            if exc.status == 404:
                return None
            raise

    # -- writing -------------------------------------------------------------
    def create_review(self, number: int, commit_sha: str, body: str, event: str,
                      comments: list[dict[str, Any]]) -> Post:
        from github.Commit import Commit

        pull = self._pull(number)
        with _api(f"post a {event} review on #{number}"):
            commit = Commit(pull.requester, {}, {"sha": commit_sha}, completed=True)
            review = pull.create_review(commit=commit, body=body, event=event,
                                        comments=comments)
            return _review(review.raw_data)

    def create_comment(self, number: int, body: str) -> Post:
        with _api(f"post a comment on #{number}"):
            return _comment(self._pull(number).create_issue_comment(body))

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


@contextlib.contextmanager
def _api(what: str) -> Iterator[None]:
    """PyGithub and connection errors become one GitHubError line."""
    import requests
    from github.GithubException import GithubException

    try:
        yield
    except GithubException as exc:
        detail = _detail(exc.data)
        text = f"{exc.status} {detail}" if detail else str(exc.status)
        raise GitHubError(f"GitHub API: could not {what}: {text}", exc.status, detail) \
            from exc
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
