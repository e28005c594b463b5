"""Class 5, GitHub side: ordinary faults neither abort a run nor bend its verdict.

A 5xx or a lost connection on a read is retried with bounded backoff; a rate limit (403 or
429 with a rate-limit signal) is waited out within a bound and retried, never taken for a
refusal that downgrades REQUEST_CHANGES to a comment; concurrent runs for one head leave
exactly one verdict in force.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from conftest import own_claim as claim
from fakes.github_server import Failure
from test_github import BOT, CLEAN, TYPO, T, clean_change, kb_repo, open_pull

import reviewer.github
from adversarial.github_kit import (
    KEY,
    as_actions,
    in_force,
    last_line,
    run_gate,
    run_pr,
)
from reviewer.github import ATTEMPTS, BACKOFF, MAX_QUOTA_WAIT
from reviewer.pr import PrOptions, PrOutcome
from reviewer.pr import run as pr_run

SECONDARY = ("You have exceeded a secondary rate limit. Please wait a few minutes before you "
             "try again.")


def clean(fake, tmp_path):
    repo, base, head = clean_change(tmp_path / "kb")
    open_pull(fake, repo, base, head)
    return repo, head


def failing(fake, tmp_path):
    repo, base, head = kb_repo(tmp_path / "kb", {
        f"{T}{CLEAN}.md": claim(CLEAN, body=f"Unlike [[{TYPO}]], a 2024 audit of 30 routes.\n")})
    open_pull(fake, repo, base, head)
    return repo, head


# -- transient faults on reads ------------------------------------------------------
@pytest.mark.parametrize("path, status", [
    (r"/pulls/1$", 502), (r"/pulls/1$", 0), (r"/pulls/1/reviews$", 503),
    (r"/issues/1/comments$", 0), (r"^/user$", 502),
])  # status 0: the connection is lost before any answer
def test_one_failed_read_anywhere_does_not_abort_pr(fake, tmp_path, waits, path, status):
    repo, head = clean(fake, tmp_path)
    fake.failures.append(Failure("GET", path, status, "Bad Gateway"))
    result = run_pr(fake, repo)
    assert result.exit_code == 0, result.output
    assert [r["state"] for r in fake.pulls[1].reviews] == ["APPROVED"]
    assert waits == [BACKOFF]
    assert "retrying in" in result.stderr


def test_reads_that_keep_failing_give_up_after_a_bounded_backoff(fake, tmp_path, waits):
    repo, head = clean(fake, tmp_path)
    fake.failures.append(Failure("GET", r"/reviews$", 502, "Bad Gateway", times=100))
    result = run_pr(fake, repo)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "claim-review: error: GitHub API: could not list the reviews of #1: 502 Bad Gateway")
    assert len([r for r in fake.requests if r.path.endswith("/reviews")]) == ATTEMPTS
    assert waits == [BACKOFF * 2 ** i for i in range(ATTEMPTS - 1)]
    assert fake.writes() == []


@pytest.mark.parametrize("path", [r"/pulls/1$", r"/reviews$", r"/comments$", r"/files$",
                                  r"/contents/"])
def test_gate_survives_one_failed_read_of_each_list(fake, tmp_path, waits, path):
    repo, head = clean(fake, tmp_path)
    assert run_pr(fake, repo).exit_code == 0
    fake.failures.append(Failure("GET", path, 502, "Bad Gateway"))
    result = run_gate(fake)
    assert (result.exit_code, result.stdout) == (0, "eligible\n"), result.output
    assert waits == [BACKOFF]


# -- rate limits ---------------------------------------------------------------------
@pytest.mark.parametrize("status, message, headers, expected", [
    (403, SECONDARY, {}, reviewer.github.SECONDARY_WAIT),
    (403, SECONDARY, {"Retry-After": "7"}, 7.0),
    (403, "Forbidden", {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "RESET+5"}, 6.0),
    (429, "Too Many Requests", {"Retry-After": "2"}, 2.0),
], ids=["secondary, no time", "Retry-After", "x-ratelimit-remaining 0", "429"])
def test_a_rate_limited_post_waits_and_keeps_request_changes(
        fake, tmp_path, waits, status, message, headers, expected):
    repo, head = failing(fake, tmp_path)
    headers = {k: v.replace("RESET", "") for k, v in headers.items()}
    if "x-ratelimit-reset" in headers:
        headers["x-ratelimit-reset"] = str(int(time.time()) + int(headers["x-ratelimit-reset"]))
    fake.failures.append(Failure("POST", r"/reviews$", status, message, headers=headers))
    result = run_pr(fake, repo)
    assert result.exit_code == 1, result.output
    [review] = fake.pulls[1].reviews
    assert review["state"] == "CHANGES_REQUESTED"  # never downgraded to a COMMENT
    assert fake.pulls[1].comments == []
    assert [r.body["event"] for r in fake.writes() if r.method == "POST"] == \
        ["REQUEST_CHANGES", "REQUEST_CHANGES"]
    assert len(waits) == 1 and expected - 1.5 <= waits[0] <= expected
    assert "rate limited, waiting" in result.stderr and "refused" not in result.stderr


def test_a_rate_limit_longer_than_the_bound_is_an_error_never_a_downgrade(
        fake, tmp_path, waits):
    repo, head = failing(fake, tmp_path)
    fake.failures.append(Failure("POST", r"/reviews$", 403, SECONDARY,
                                 headers={"Retry-After": str(int(MAX_QUOTA_WAIT) * 40)}))
    result = run_pr(fake, repo)
    assert result.exit_code == 2
    assert fake.pulls[1].reviews == [] and fake.pulls[1].comments == []
    assert "rate limited: GitHub asks to wait 3600 s" in result.stderr
    assert waits == []


def test_a_rate_limited_read_waits_for_the_reset(fake, tmp_path, waits):
    repo, head = clean(fake, tmp_path)
    reset = str(int(time.time()) + 3)
    fake.failures.append(Failure("GET", r"/issues/1/comments$", 403,
                                 "API rate limit exceeded for installation ID 1.",
                                 headers={"x-ratelimit-remaining": "0",
                                          "x-ratelimit-reset": reset}, times=2))
    result = run_pr(fake, repo)
    assert result.exit_code == 0, result.output
    assert len(waits) == 2 and all(2 <= w <= 4 for w in waits)


def test_a_refusal_without_a_rate_limit_signal_still_falls_back(fake, tmp_path, waits):
    repo, head = failing(fake, tmp_path)
    fake.failures.append(Failure("POST", r"/reviews$", 403, "Resource not accessible by "
                                 "integration", times=2))
    assert run_pr(fake, repo).exit_code == 1
    assert fake.pulls[1].reviews == [] and len(fake.pulls[1].comments) == 1
    assert waits == []


def test_the_actions_refusal_names_the_repository_setting(fake, tmp_path):
    repo, head = clean(fake, tmp_path)
    fake.actions_cannot_approve = True
    result = run_pr(fake, repo, **as_actions())
    assert result.exit_code == 0, result.output
    assert '"Allow GitHub Actions to create and approve pull requests" (Settings → ' \
           'Actions → General → Workflow permissions)' in result.stderr
    assert fake.pulls[1].reviews[0]["state"] == "COMMENTED"


# -- concurrent runs ---------------------------------------------------------------
def start_runs(fake, repo: Path, n: int, *extra: str) -> list[tuple[PrOutcome, list[str]]]:
    """`n` runs of `pr` at once, each in its own thread, all against the same head."""
    env = {"GITHUB_TOKEN": BOT, "CLAIM_REVIEW_SIGNING_KEY": KEY}
    results: list = [None] * n

    def one(i: int) -> None:
        lines: list[str] = []
        options = PrOptions(repo="octo/kb", pr=1, repo_dir=repo, api_url=fake.url,
                            no_llm=True, post_as=extra[0] if extra else None)
        results[i] = (pr_run(options, env, lines.append, lambda line: None), lines)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(r is not None for r in results)
    return results


def hold_posts(fake, path: str, n: int) -> None:
    """No post is answered until all `n` runs have asked: each run has re-checked for our
    verdict and found none, the worst case."""
    barrier = threading.Barrier(n, timeout=30)
    held = []

    def before(method: str, where: str) -> None:
        if method == "POST" and where.endswith(path) and len(held) < n:
            held.append(where)
            barrier.wait()

    fake.before_request = before


@pytest.mark.parametrize("kind", ["reviews", "issue comments"])
def test_three_concurrent_runs_leave_exactly_one_verdict_in_force(fake, tmp_path, kind):
    repo, head = clean(fake, tmp_path)
    if kind == "issue comments":
        fake.failures.append(Failure("POST", r"/reviews$", 403, "Resource not accessible by "
                                     "integration", times=6))
    hold_posts(fake, "/reviews" if kind == "reviews" else "/comments", 3)
    results = start_runs(fake, repo, 3)
    posts = fake.pulls[1].reviews if kind == "reviews" else fake.pulls[1].comments
    assert len(posts) == 3  # all three posted: none saw another's verdict in time
    [live] = in_force(fake)
    assert live is posts[0]  # the earliest stays in force
    label = "review" if kind == "reviews" else "issue comment"
    for later in posts[1:]:
        assert "VERDICT" not in later["body"]
        assert f"Superseded by {label} {live['id']}" in later["body"]
    assert {(outcome.code, outcome.verdict) for outcome, _ in results} == {(0, "APPROVE")}
    gave_way = [lines for _, lines in results if any("gives way" in x for x in lines)]
    assert len(gave_way) == 2
    assert run_gate(fake).stdout == "eligible\n"


def test_a_verdict_posted_while_a_run_reviews_stands_and_the_run_posts_nothing(
        fake, tmp_path):
    repo, head = failing(fake, tmp_path)
    env = {"GITHUB_TOKEN": BOT, "CLAIM_REVIEW_SIGNING_KEY": KEY}
    options = PrOptions(repo="octo/kb", pr=1, repo_dir=repo, api_url=fake.url, no_llm=True)
    reads: list[str] = []
    other: list[PrOutcome] = []

    def meanwhile(method: str, where: str) -> None:
        if method == "GET" and where.endswith("/pulls/1"):
            reads.append(where)
            if len(reads) == 2 and not other:  # the first run re-reads the head: reviewed
                other.append(pr_run(options, env, lambda line: None, lambda line: None))

    fake.before_request = meanwhile
    lines: list[str] = []
    outcome = pr_run(options, env, lines.append, lambda line: None)
    assert [o.verdict for o in other] == ["REQUEST_CHANGES"]
    [review] = fake.pulls[1].reviews  # the other run's; this run posted nothing
    assert last_line(review["body"]) == "<!-- VERDICT:LEO:REQUEST_CHANGES -->"
    assert (outcome.code, outcome.verdict) == (1, "REQUEST_CHANGES")
    assert any("while this run reviewed" in line and f"review {review['id']}" in line
               and "nothing posted" in line for line in lines), lines
