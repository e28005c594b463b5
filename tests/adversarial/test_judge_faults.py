"""Class 5, judge side: one retry policy for the Messages API. Transient errors are
retried; a key, permission or model error and a spending limit stop the whole run after
one request; an ambiguous answer is never taken for a pass."""

from __future__ import annotations

import json

import pytest
from conftest import own_claim, write_tree
from fakes.anthropic_server import FakeAnthropic, Reply, answer, passing, text

from reviewer.change import from_paths
from reviewer.pipeline import build_review
from reviewer.rubric import load_rubric

TITLES = [f"Bus lanes cut trip times on arterial {n} in the morning peak" for n in "ABCDE"]
FAST = "judge:\n  timeout: 2\n  backoff: 0.01\n  retries: 2\n  concurrency: 1\n"


@pytest.fixture
def fake():
    server = FakeAnthropic().start()
    yield server
    server.stop()


def judged(tmp_path, fake, monkeypatch, model: str | None = None):
    root = write_tree(tmp_path / "kb", {".claim-review.yaml": FAST, **{
        f"domains/x/{t}.md": own_claim(t, domain="x", body="A 2024 audit of 30 routes.\n")
        for t in TITLES}})
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
    monkeypatch.setenv("CLAIM_REVIEW_CACHE_DIR", str(tmp_path / "cache"))
    rubric = load_rubric(None, root).with_overrides(model=model)
    return build_review(from_paths(root, [], rubric))


@pytest.mark.parametrize("status, kind, message, says", [
    (401, "authentication_error", "invalid x-api-key", "check ANTHROPIC_API_KEY"),
    (403, "permission_error", "not allowed", "check ANTHROPIC_API_KEY"),
    (429, "rate_limit_error", "Your organization has reached its monthly spend limit",
     "a spending limit"),
])
def test_an_error_every_request_would_hit_stops_the_run_after_one(
        tmp_path, fake, monkeypatch, status, kind, message, says):
    fake.responder = lambda body: Reply(status, {"type": "error", "error": {
        "type": kind, "message": message}})
    review = judged(tmp_path, fake, monkeypatch)
    assert len(fake.requests) == 1  # not one per claim, and never retried
    assert len(review.judge.errors) == len(TITLES)
    assert all(says in e["error"] for e in review.judge.errors)


def test_a_misspelled_model_stops_at_once_and_suggests_the_right_name(tmp_path, fake,
                                                                    monkeypatch):
    fake.responder = lambda body: Reply(404, {"type": "error", "error": {
        "type": "not_found_error", "message": f"model: {body['model']}"}})
    review = judged(tmp_path, fake, monkeypatch, model="claude-sonet-5-5")
    assert len(fake.requests) == 1
    assert "did you mean claude-sonnet-5-5?" in review.judge.errors[0]["error"]


def test_a_transient_rate_limit_is_retried_and_then_answers(tmp_path, fake, monkeypatch):
    fake.push(Reply(429, {"type": "error", "error": {"type": "rate_limit_error",
                                                     "message": "Number of requests"}},
                    {"retry-after": "0"}))
    review = judged(tmp_path, fake, monkeypatch)
    assert review.judge.errors == [] and len(fake.requests) == len(TITLES) + 1


def test_a_verdict_given_twice_in_one_criterion_is_never_read_as_a_pass(tmp_path, fake,
                                                                      monkeypatch):
    def ambiguous(body):
        raw = json.dumps(answer(body)).replace('"verdict": "pass"',
                                               '"verdict": "fail", "verdict": "pass"', 1)
        return text(raw)

    fake.responder = ambiguous
    review = judged(tmp_path, fake, monkeypatch)
    assert len(review.judge.errors) == len(TITLES)  # asked twice each, then an error
    assert all("same key twice" in e["error"] for e in review.judge.errors)
    assert passing  # the fake's default answer is what the other tests rely on
