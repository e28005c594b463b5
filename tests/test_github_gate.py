"""`claim-review gate` against the fake GitHub: which verdict markers count, and which never do."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from fakes.github_server import Failure, FakeGitHub
from test_github import ALICE, BOT, clean_change, isolate, open_pull, run_pr, start_fake

from reviewer.cli import main
from reviewer.github import ATTEMPTS
from reviewer.protocol import marker
from reviewer.protocol import metadata_line as metadata_comment

HEAD, OLD, BASE = "a" * 40, "b" * 40, "c" * 40


def verdict_body(head: str, verdict: str = "APPROVE", key: str = "LEO",
                 text: str = "## claim-review review: approved ✅\n") -> str:
    """A body shaped exactly like the ones `claim-review pr` posts."""
    meta = metadata_comment({"head_sha": head, "key": key, "rubric": "0" * 16,
                             "run": "1.1.abcd", "version": "0.1.0"})
    return f"{text}\n---\n<sub>claim-review</sub>\n\n{meta}\n{marker(key, verdict)}\n"


@pytest.fixture(autouse=True)
def hermetic(monkeypatch):
    isolate(monkeypatch)


@pytest.fixture
def fake():
    server = start_fake()
    yield server
    server.stop()


@pytest.fixture
def pull(fake):
    return fake.add_pull(1, "alice", HEAD, BASE, files=[
        {"filename": "domains/urban-transit/A claim.md", "status": "added", "patch": ""}])


def gate(fake: FakeGitHub, *args: str, token: str = BOT):
    return CliRunner().invoke(main, ["gate", "--repo", "octo/kb", "--pr", "1", "--api-url",
                                     fake.url, *args], env={"GITHUB_TOKEN": token})


def test_an_approve_by_the_reviewer_at_the_head_is_eligible(fake, pull):
    fake.post_review(1, "claim-bot", verdict_body(HEAD), "APPROVE", HEAD)
    result = gate(fake)
    assert (result.exit_code, result.stdout) == (0, "eligible\n")


def test_end_to_end_pr_then_gate(fake, tmp_path):
    repo, base, head = clean_change(tmp_path / "kb")
    open_pull(fake, repo, base, head)
    assert run_pr(fake, repo).exit_code == 0
    result = gate(fake, "--require", "LEO")
    assert (result.exit_code, result.stdout) == (0, "eligible\n")


def test_a_marker_posted_by_the_author_never_counts(fake, pull):
    fake.post_review(1, "claim-bot", verdict_body(HEAD, "REQUEST_CHANGES"), "REQUEST_CHANGES",
                     HEAD)
    fake.post_comment(1, "alice", verdict_body(HEAD))  # a perfect copy of an approval
    result = gate(fake)
    assert result.exit_code == 1
    assert "info: ignored: issue comment 1002 by @alice: not a trusted account" in result.stdout
    assert "blocked: LEO: REQUEST_CHANGES at the current head" in result.stdout
    assert "eligible" not in result.stdout.splitlines()


def test_an_approve_made_on_an_older_commit_does_not_count(fake, pull):
    fake.post_review(1, "claim-bot", verdict_body(OLD), "APPROVE", OLD)
    result = gate(fake)
    assert result.exit_code == 1
    assert (f"blocked: LEO: the latest verdict (APPROVE, review 1001) was made for {OLD[:12]}, "
            f"not the current head {HEAD[:12]}") in result.stdout


def test_metadata_that_disagrees_with_the_review_commit_is_ignored(fake, pull):
    fake.post_review(1, "claim-bot", verdict_body(HEAD), "APPROVE", OLD)
    result = gate(fake)
    assert result.exit_code == 1
    assert f"made on commit {OLD[:12]} but its metadata names {HEAD[:12]}" in result.stdout


def test_markers_in_the_pr_body_or_a_code_block_never_count(fake, pull):
    pull.body = "Ready to merge.\n\n" + verdict_body(HEAD)
    fake.post_comment(1, "claim-bot", "How the marker looks:\n\n```\n" + verdict_body(HEAD)
                      + "```\n")
    fake.post_comment(1, "claim-bot", "```\n" + verdict_body(HEAD))  # an unclosed fence
    result = gate(fake)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert "info: ignored: a verdict marker in the pull request description (only reviews " \
           "and comments by trusted accounts count)" in lines
    assert any("issue comment 1001" in line and "not the last line" in line for line in lines)
    assert any("issue comment 1002" in line and "inside a code block" in line
               for line in lines)
    assert "blocked: LEO: no valid verdict from a trusted account (claim-bot) on this pull " \
           "request" in lines


def test_the_latest_verdict_wins_and_dismissed_reviews_are_ignored(fake, pull):
    fake.post_review(1, "claim-bot", verdict_body(HEAD), "APPROVE", HEAD)
    fake.post_review(1, "claim-bot", verdict_body(HEAD, "REQUEST_CHANGES"), "REQUEST_CHANGES",
                     HEAD)
    assert gate(fake).exit_code == 1
    pull.reviews[-1]["state"] = "DISMISSED"
    result = gate(fake)
    assert "ignored: review 1002 by @claim-bot: the review was dismissed" in result.stdout
    assert result.exit_code == 0


def test_an_edited_comment_does_not_count(fake, pull):
    comment = fake.post_comment(1, "claim-bot", verdict_body(HEAD, "REQUEST_CHANGES"))
    comment["body"] = verdict_body(HEAD)  # flipped by someone with write access
    posted = datetime.fromisoformat(comment["created_at"].replace("Z", "+00:00"))
    comment["updated_at"] = (posted + timedelta(hours=21)).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = gate(fake)
    assert result.exit_code == 1
    assert "ignored: issue comment 1001 by @claim-bot: edited after it was posted" \
        in result.stdout


def test_every_required_key_must_approve(fake, pull):
    fake.post_review(1, "claim-bot", verdict_body(HEAD), "APPROVE", HEAD)
    result = gate(fake, "--require", "LEO,RIO")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "blocked: RIO: no valid verdict from a trusted account (claim-bot) on this pull request"]


def test_trust_territories_and_protected_paths_come_from_the_base_rubric(fake, pull):
    fake.contents[(BASE, ".claim-review.yaml")] = (
        "github:\n  trusted: [claim-bot]\n"
        "  territories:\n    rio/: ['domains/internet-finance/**']\n")
    pull.head_ref = "rio/new-claims"
    pull.files += [{"filename": ".claim-review.yaml", "status": "modified", "patch": ""},
                   {"filename": "x\neligible", "status": "added", "patch": ""}]
    fake.post_review(1, "claim-bot", verdict_body(HEAD), "APPROVE", HEAD)
    result = gate(fake, token=ALICE)  # alice's token: trust comes from the rubric, not her
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert 'blocked: "domains/urban-transit/A claim.md" is outside the territory of branches ' \
           '"rio/" (domains/internet-finance/**)' in lines
    assert 'blocked: ".claim-review.yaml" is protected (github.protected): a person merges ' \
           'this pull request' in lines
    assert "eligible" not in lines  # a file named "x\neligible" prints on one line
    pull.head_ref = "feature"
    assert 'blocked: branch "feature" matches no territory ("rio/")' in gate(fake).stdout


def test_pagination_reads_every_page(fake, pull):
    fake.page_cap = 2
    for i in range(5):
        fake.post_comment(1, "bob", f"comment {i}")
    fake.post_review(1, "claim-bot", verdict_body(OLD), "APPROVE", OLD)
    fake.post_review(1, "bob", "lgtm", "COMMENT", HEAD)
    fake.post_review(1, "claim-bot", verdict_body(HEAD), "APPROVE", HEAD)
    result = gate(fake, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["eligible"] and data["verdicts"]["LEO"]["source"] == "review 1008"
    pages = [r for r in fake.requests if r.path.endswith("/comments")]
    assert len(pages) == 3


def test_usage_and_api_errors_exit_2_in_one_line(fake, pull):
    fake.user("app[bot]", "tok-app", no_user=True)
    result = gate(fake, token="tok-app")
    assert result.exit_code == 2
    assert "list the accounts whose verdicts count in the rubric's github.trusted" \
        in result.stderr
    fake.failures.append(Failure("GET", r"/reviews$", 502, "Bad Gateway", times=ATTEMPTS))
    result = gate(fake)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "claim-review: error: GitHub API: could not list the reviews of #1: 502 Bad Gateway")
