"""A fake GitHub REST API on 127.0.0.1 that the real PyGithub talks to through `base_url`.

It implements what claim-review uses, shaped the way GitHub answers: the authenticated
user, a repository, pull requests (with `changed_files`), their files (with `patch`, at
most 3,000 listed, as GitHub does), reviews (create, list, edit the body with PUT; a
submitted review cannot be deleted), review comments, issue comments (create, list, edit,
delete) and file contents. Lists paginate with real `Link: <...>; rel="next"` headers;
`page_cap` makes pages small in tests.

GitHub's refusals are reproduced: 401 without a known token, 403 for a read-only token,
422 when an account approves (or requests changes on) its own pull request, 422 when
`actions_cannot_approve` and github-actions[bot] approves, 422 for an inline comment
outside the diff and for a body over 65,536 characters, 403 when an account edits a
review or comment it did not write. `failures` scripts one-off errors (optionally after
doing the work, as a lost response does, and with headers such as `Retry-After` or
`x-ratelimit-remaining`); `before_request` runs a callback before each request is
answered, outside the server's lock (e.g. to hold concurrent posts at a barrier), and
`after_request` one after it (e.g. to move the head during a run). `same_second_edits`
keeps a comment's `updated_at` equal to its `created_at` when it is edited, as GitHub
shows an edit made within the second of posting.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

BODY_LIMIT = 65536
ACTIONS_BOT = "github-actions[bot]"


@dataclass
class Failure:
    """Answer the next `times` matching requests with `status`; `after_work` first does the
    work (the review is created) and then fails, like a response lost on the way back.
    Status 0 closes the connection without any answer (a connection error)."""

    method: str
    path: str  # a regular expression searched in the request path
    status: int
    message: str = "Server Error"
    times: int = 1
    after_work: bool = False
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class PullState:
    number: int
    author: str
    head_sha: str
    base_sha: str
    head_ref: str = "feature"
    base_ref: str = "main"
    head_repo: str = ""  # "" means the base repository itself
    title: str = "Add claims"
    body: str = ""
    state: str = "open"
    draft: bool = False
    merged: bool = False
    changed_files: int | None = None  # GitHub's count; None: len(files); -1: left out
    files: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    review_comments: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Seen:
    method: str
    path: str
    body: Any


class FakeGitHub:
    def __init__(self, repo: str = "octo/kb") -> None:
        self.repo = repo
        self.tokens: dict[str, str] = {}  # token -> login
        self.readonly: set[str] = set()  # tokens that may read but not write (fork PRs)
        self.no_user: set[str] = set()  # tokens that may not read /user (Actions, apps)
        self.pulls: dict[int, PullState] = {}
        self.contents: dict[tuple[str, str], str] = {}  # (ref, path) -> text
        self.actions_cannot_approve = False
        self.page_cap = 100
        self.files_cap = 3000  # GitHub lists at most this many files of a pull request
        self.same_second_edits = False
        self.failures: list[Failure] = []
        self.before_request: Callable[[str, str], None] | None = None
        self.after_request: Callable[[str, str], None] | None = None
        self.requests: list[Seen] = []
        self.url = ""
        self._ids = 1000
        # GitHub's clock: now (signed verdicts carry the runner's time), one second further
        # for each post, so posts are ordered by time as on GitHub; `advance` moves it on
        self._clock = datetime.now(timezone.utc).replace(microsecond=0)
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None

    # -- set-up ---------------------------------------------------------------
    def start(self) -> FakeGitHub:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as two writes

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def do_PATCH(self) -> None:
                fake._handle(self, "PATCH")

            def do_PUT(self) -> None:
                fake._handle(self, "PUT")

            def do_DELETE(self) -> None:
                fake._handle(self, "DELETE")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def user(self, login: str, token: str, *, readonly: bool = False,
             no_user: bool = False) -> str:
        self.tokens[token] = login
        if readonly:
            self.readonly.add(token)
        if no_user:
            self.no_user.add(token)
        return token

    def add_pull(self, number: int, author: str, head_sha: str, base_sha: str,
                 files: list[dict[str, Any]] | None = None, **extra: Any) -> PullState:
        pull = PullState(number, author, head_sha, base_sha, files=list(files or []), **extra)
        self.pulls[number] = pull
        return pull

    def post_comment(self, number: int, login: str, body: str) -> dict[str, Any]:
        """An issue comment written directly, e.g. by the pull request's author."""
        with self._lock:
            comment = self._comment_json(number, login, body)
            self.pulls[number].comments.append(comment)
            return comment

    def post_review(self, number: int, login: str, body: str, event: str,
                    commit_id: str) -> dict[str, Any]:
        with self._lock:
            review = self._review_json(number, login, body, event, commit_id)
            self.pulls[number].reviews.append(review)
            return review

    # -- dispatch -------------------------------------------------------------
    ROUTES = [
        ("GET", r"/user", "_get_user"),
        ("GET", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)", "_get_repo"),
        ("GET", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/pulls/(?P<n>\d+)", "_get_pull"),
        ("GET", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/pulls/(?P<n>\d+)/files", "_list_files"),
        ("GET", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/pulls/(?P<n>\d+)/reviews", "_list_reviews"),
        ("POST", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/pulls/(?P<n>\d+)/reviews", "_create_review"),
        ("GET", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/pulls/(?P<n>\d+)/reviews/(?P<id>\d+)",
         "_get_review"),
        ("PUT", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/pulls/(?P<n>\d+)/reviews/(?P<id>\d+)",
         "_edit_review"),
        ("DELETE", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/pulls/(?P<n>\d+)/reviews/(?P<id>\d+)",
         "_delete_review"),
        ("PUT", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/pulls/(?P<n>\d+)/reviews/(?P<id>\d+)"
                r"/dismissals", "_dismiss_review"),
        ("GET", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/pulls/(?P<n>\d+)/comments",
         "_list_review_comments"),
        ("GET", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/issues/(?P<n>\d+)/comments",
         "_list_comments"),
        ("POST", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/issues/(?P<n>\d+)/comments",
         "_create_comment"),
        ("GET", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/issues/comments/(?P<id>\d+)",
         "_get_comment"),
        ("PATCH", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/issues/comments/(?P<id>\d+)",
         "_edit_comment"),
        ("DELETE", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/issues/comments/(?P<id>\d+)",
         "_delete_comment"),
        ("GET", r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/contents/(?P<path>.+)", "_get_contents"),
    ]

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if self.before_request is not None:
            self.before_request(method, parts.path)
        with self._lock:
            self.requests.append(Seen(method, parts.path, body))
            status, payload, headers = self._answer(handler, method, parts.path, query, body)
        if status == 0:  # a connection lost before any answer
            handler.close_connection = True
            return
        data = json.dumps(payload).encode() if payload is not None else b""
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)
        if self.after_request is not None:
            self.after_request(method, parts.path)

    def _answer(self, handler: BaseHTTPRequestHandler, method: str, path: str,
                query: dict[str, str], body: Any) -> tuple[int, Any, dict[str, str]]:
        auth = handler.headers.get("Authorization", "")
        token = auth.split(" ", 1)[1] if " " in auth else ""
        if token and token not in self.tokens:
            return 401, {"message": "Bad credentials"}, {}
        for m, pattern, name in self.ROUTES:
            match = re.fullmatch(pattern, path)
            if m != method or match is None:
                continue
            failure = self._failure(method, path)
            if failure is not None and not failure.after_work:
                return failure.status, {"message": failure.message}, dict(failure.headers)
            if method != "GET" and (not token or token in self.readonly):
                return (403 if token else 401), {
                    "message": "Resource not accessible by integration"}, {}
            args = match.groupdict()
            if "o" in args and f"{args.pop('o')}/{args.pop('r')}" != self.repo:
                return 404, {"message": "Not Found"}, {}
            status, payload, headers = getattr(self, name)(token, query, body, **args)
            if failure is not None:
                return failure.status, {"message": failure.message}, dict(failure.headers)
            return status, payload, headers
        return 404, {"message": "Not Found"}, {}

    def _failure(self, method: str, path: str) -> Failure | None:
        for failure in self.failures:
            if failure.method == method and re.search(failure.path, path) and failure.times:
                failure.times -= 1
                return failure
        return None

    # -- endpoints ------------------------------------------------------------
    def _get_user(self, token: str, query, body):
        if not token:
            return 401, {"message": "Requires authentication"}, {}
        if token in self.no_user:
            return 403, {"message": "Resource not accessible by integration"}, {}
        return 200, self._user_json(self.tokens[token]), {}

    def _get_repo(self, token: str, query, body):
        return 200, self._repo_json(self.repo), {}

    def _get_pull(self, token: str, query, body, n: str):
        pull = self.pulls.get(int(n))
        if pull is None:
            return 404, {"message": "Not Found"}, {}
        return 200, self._pull_json(pull), {}

    def _list_files(self, token: str, query, body, n: str):
        return self._page(self.pulls[int(n)].files[:self.files_cap], query, f"/pulls/{n}/files")

    def _list_reviews(self, token: str, query, body, n: str):
        return self._page(self.pulls[int(n)].reviews, query, f"/pulls/{n}/reviews")

    def _list_review_comments(self, token: str, query, body, n: str):
        return self._page(self.pulls[int(n)].review_comments, query, f"/pulls/{n}/comments")

    def _list_comments(self, token: str, query, body, n: str):
        return self._page(self.pulls[int(n)].comments, query, f"/issues/{n}/comments")

    def _create_review(self, token: str, query, body, n: str):
        pull = self.pulls[int(n)]
        login = self.tokens[token]
        event = body.get("event", "PENDING")
        text = body.get("body") or ""
        if event not in ("APPROVE", "REQUEST_CHANGES", "COMMENT"):
            return _invalid(f"event {event!r} is not supported here")
        if len(text) > BODY_LIMIT:
            return _invalid(f"body is too long (maximum is {BODY_LIMIT} characters)")
        if login == pull.author and event == "APPROVE":
            return _invalid("Can not approve your own pull request")
        if login == pull.author and event == "REQUEST_CHANGES":
            return _invalid("Can not request changes on your own pull request")
        if self.actions_cannot_approve and login == ACTIONS_BOT and event == "APPROVE":
            return _invalid("GitHub Actions is not permitted to approve pull requests.")
        comments = body.get("comments") or []
        for c in comments:
            if c.get("side", "RIGHT") != "RIGHT" or c.get("line") not in self._diff_lines(
                    pull, c.get("path")):
                return _invalid("Pull request review thread line must be part of the diff")
        review = self._review_json(pull.number, login, text, event,
                                   body.get("commit_id") or pull.head_sha)
        pull.reviews.append(review)
        for c in comments:
            self._ids += 1
            pull.review_comments.append({
                "id": self._ids, "pull_request_review_id": review["id"], "path": c["path"],
                "line": c["line"], "side": c.get("side", "RIGHT"), "body": c["body"],
                "commit_id": review["commit_id"], "user": self._user_json(login),
                "created_at": review["submitted_at"], "updated_at": review["submitted_at"],
                "html_url": f"https://github.test/{self.repo}/pull/{n}#discussion_r{self._ids}"})
        return 200, review, {}

    def _get_review(self, token: str, query, body, n: str, id: str):
        found = next((r for r in self.pulls[int(n)].reviews if r["id"] == int(id)), None)
        return (200, found, {}) if found else (404, {"message": "Not Found"}, {})

    def _edit_review(self, token: str, query, body, n: str, id: str):
        """PUT: the review's body only; GitHub keeps its state, commit and time, and the
        REST API shows no sign of the edit."""
        found = next((r for r in self.pulls[int(n)].reviews if r["id"] == int(id)), None)
        if found is None:
            return 404, {"message": "Not Found"}, {}
        if found["user"]["login"] != self.tokens[token]:
            return 403, {"message": "Resource not accessible by integration"}, {}
        found["body"] = body.get("body") or ""
        return 200, found, {}

    def _dismiss_review(self, token: str, query, body, n: str, id: str):
        """Anyone with write access may dismiss a review."""
        found = next((r for r in self.pulls[int(n)].reviews if r["id"] == int(id)), None)
        if found is None:
            return 404, {"message": "Not Found"}, {}
        found["state"] = "DISMISSED"
        return 200, found, {}

    def _delete_review(self, token: str, query, body, n: str, id: str):
        found = next((r for r in self.pulls[int(n)].reviews if r["id"] == int(id)), None)
        if found is None:
            return 404, {"message": "Not Found"}, {}
        return _invalid("Can not delete a non-pending pull request review")

    def _delete_comment(self, token: str, query, body, id: str):
        for pull in self.pulls.values():
            for c in pull.comments:
                if c["id"] == int(id):
                    if c["user"]["login"] != self.tokens[token]:
                        return 403, {"message": "Must have admin rights to Repository."}, {}
                    pull.comments.remove(c)
                    return 204, None, {}
        return 404, {"message": "Not Found"}, {}

    def _create_comment(self, token: str, query, body, n: str):
        comment = self._comment_json(int(n), self.tokens[token], body.get("body") or "")
        if len(comment["body"]) > BODY_LIMIT:
            return _invalid(f"body is too long (maximum is {BODY_LIMIT} characters)")
        self.pulls[int(n)].comments.append(comment)
        return 201, comment, {}

    def _get_comment(self, token: str, query, body, id: str):
        found = self._find_comment(int(id))
        return (200, found, {}) if found else (404, {"message": "Not Found"}, {})

    def _edit_comment(self, token: str, query, body, id: str):
        found = self._find_comment(int(id))
        if found is None:
            return 404, {"message": "Not Found"}, {}
        if found["user"]["login"] != self.tokens[token]:
            return 403, {"message": "Must have admin rights to Repository."}, {}
        found["body"] = body.get("body") or ""
        if not self.same_second_edits:
            found["updated_at"] = self._tick()
        return 200, found, {}

    def _get_contents(self, token: str, query, body, path: str):
        path = unquote(path)
        ref = query.get("ref", "main")
        text = self.contents.get((ref, path))
        if text is None:
            return 404, {"message": "Not Found"}, {}
        data = text.encode()
        return 200, {"type": "file", "encoding": "base64", "name": path.rsplit("/", 1)[-1],
                     "path": path, "size": len(data), "sha": "0" * 40,
                     "content": base64.b64encode(data).decode(),
                     "url": f"{self.url}/repos/{self.repo}/contents/{path}?ref={ref}"}, {}

    # -- helpers --------------------------------------------------------------
    def _page(self, items: list[Any], query: dict[str, str], suffix: str):
        per_page = min(int(query.get("per_page", 30)), self.page_cap)
        page = int(query.get("page", 1))
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page: page * per_page]
        base = f"{self.url}/repos/{self.repo}{suffix}?per_page={per_page}"
        links = []
        if page < last:
            links.append(f'<{base}&page={page + 1}>; rel="next"')
            links.append(f'<{base}&page={last}>; rel="last"')
        return 200, chunk, ({"Link": ", ".join(links)} if links else {})

    def _diff_lines(self, pull: PullState, path: str | None) -> set[int]:
        """Head-side lines a review comment may use: added and context lines of the patch."""
        for f in pull.files:
            if f["filename"] == path:
                return patch_lines(f.get("patch") or "")
        return set()

    def _find_comment(self, comment_id: int) -> dict[str, Any] | None:
        for pull in self.pulls.values():
            for c in pull.comments:
                if c["id"] == comment_id:
                    return c
        return None

    def advance(self, seconds: float) -> None:
        """Time passes on GitHub (e.g. between a verdict and a copy of it)."""
        with self._lock:
            self._clock += timedelta(seconds=seconds)

    def _tick(self) -> str:
        self._clock += timedelta(seconds=1)
        return self._clock.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _user_json(self, login: str) -> dict[str, Any]:
        return {"login": login, "id": abs(hash(login)) % 10**8, "node_id": f"U_{login}",
                "type": "Bot" if login.endswith("[bot]") else "User",
                "url": f"{self.url}/users/{login}", "html_url": f"https://github.test/{login}"}

    def _repo_json(self, full_name: str) -> dict[str, Any]:
        owner, name = full_name.split("/")
        return {"id": abs(hash(full_name)) % 10**8, "name": name, "full_name": full_name,
                "owner": self._user_json(owner), "private": False, "default_branch": "main",
                "url": f"{self.url}/repos/{full_name}",
                "html_url": f"https://github.test/{full_name}"}

    def _pull_json(self, pull: PullState) -> dict[str, Any]:
        url = f"{self.url}/repos/{self.repo}"
        head_repo = pull.head_repo or self.repo
        count = len(pull.files) if pull.changed_files is None else pull.changed_files
        extra = {} if count < 0 else {"changed_files": count}
        return {**extra,
            "id": pull.number * 7, "number": pull.number, "state": pull.state,
            "title": pull.title, "body": pull.body, "draft": pull.draft,
            "merged": pull.merged, "user": self._user_json(pull.author),
            "url": f"{url}/pulls/{pull.number}", "issue_url": f"{url}/issues/{pull.number}",
            "html_url": f"https://github.test/{self.repo}/pull/{pull.number}",
            "head": {"sha": pull.head_sha, "ref": pull.head_ref,
                     "label": f"{head_repo.split('/')[0]}:{pull.head_ref}",
                     "repo": self._repo_json(head_repo),
                     "user": self._user_json(head_repo.split("/")[0])},
            "base": {"sha": pull.base_sha, "ref": pull.base_ref, "label": f"octo:{pull.base_ref}",
                     "repo": self._repo_json(self.repo), "user": self._user_json("octo")},
        }

    def _review_json(self, number: int, login: str, body: str, event: str,
                     commit_id: str) -> dict[str, Any]:
        self._ids += 1
        state = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED",
                 "COMMENT": "COMMENTED"}[event]
        return {"id": self._ids, "node_id": f"PRR_{self._ids}", "user": self._user_json(login),
                "body": body, "state": state, "commit_id": commit_id,
                "submitted_at": self._tick(),
                "html_url": f"https://github.test/{self.repo}/pull/{number}"
                            f"#pullrequestreview-{self._ids}",
                "pull_request_url": f"{self.url}/repos/{self.repo}/pulls/{number}"}

    def _comment_json(self, number: int, login: str, body: str) -> dict[str, Any]:
        self._ids += 1
        now = self._tick()
        return {"id": self._ids, "node_id": f"IC_{self._ids}", "user": self._user_json(login),
                "body": body, "created_at": now, "updated_at": now,
                "url": f"{self.url}/repos/{self.repo}/issues/comments/{self._ids}",
                "issue_url": f"{self.url}/repos/{self.repo}/issues/{number}",
                "html_url": f"https://github.test/{self.repo}/pull/{number}"
                            f"#issuecomment-{self._ids}"}

    # -- what tests look at ---------------------------------------------------
    def writes(self) -> list[Seen]:
        return [r for r in self.requests if r.method != "GET"]


def _invalid(message: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    return 422, {"message": "Unprocessable Entity", "errors": [message],
                 "documentation_url": "https://docs.github.com/rest/pulls/reviews"}, {}


_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


def patch_lines(patch: str) -> set[int]:
    lines: set[int] = set()
    right = 0
    for raw in patch.split("\n"):
        m = _HUNK.match(raw)
        if m:
            right = int(m.group(1))
        elif raw.startswith((" ", "+")) and right:
            lines.add(right)
            right += 1
    return lines


def files_from_git(repo: str, base: str, head: str) -> list[dict[str, Any]]:
    """The pull request files as GitHub lists them: three-dot diff, one `patch` per file."""
    def run(*args: str) -> str:
        return subprocess.run(["git", "-C", str(repo), "-c", "core.quotePath=false", *args],
                              check=True, capture_output=True, text=True).stdout

    merge_base = run("merge-base", base, head).strip()
    diff = run("diff", "-M", "--src-prefix=a/", "--dst-prefix=b/", merge_base, head)
    files = []
    for chunk in diff.split("diff --git ")[1:]:
        header, _, hunks = chunk.partition("\n@@")
        old = re.search(r"^--- (?:a/(.*)|/dev/null)$", header, re.MULTILINE)
        new = re.search(r"^\+\+\+ (?:b/(.*)|/dev/null)$", header, re.MULTILINE)
        renamed = re.search(r"^rename from (.*)\nrename to (.*)$", header, re.MULTILINE)
        if renamed:
            before, name = renamed.groups()
        else:
            # git ends a name holding spaces with a tab in these lines
            before = old.group(1).rstrip("\t") if old and old.group(1) else None
            name = new.group(1).rstrip("\t") if new and new.group(1) else None
        status = "renamed" if renamed else "added" if before is None else \
            "removed" if name is None else "modified"
        patch = "@@" + hunks if hunks else ""
        entry = {"filename": name or before, "status": status, "sha": "0" * 40, "patch": patch,
                 "additions": patch.count("\n+"), "deletions": patch.count("\n-")}
        if renamed:
            entry["previous_filename"] = before
        files.append(entry)
    return files
