"""Class 6: size and hygiene. An oversized file is rejected before it is parsed or judged,
a NUL byte anywhere marks a file binary, and every judge request tags its untrusted
blocks with a fresh nonce while the answer cache still recognises the request."""

from __future__ import annotations

from conftest import claim_text, own_claim, write_tree
from fakes.anthropic_server import FakeAnthropic

import reviewer.parse
from reviewer.change import from_paths
from reviewer.pipeline import build_review
from reviewer.rubric import load_rubric

TITLE = "Bus lanes cut trip times on congested arterials"


def test_an_oversized_file_is_neither_parsed_nor_judged(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(reviewer.parse, "_split", lambda claim, text: calls.append(1))
    big = claim_text(TITLE, body="word " * 600_000)
    root = write_tree(tmp_path / "kb", {f"domains/x/{TITLE}.md": big})
    fake = FakeAnthropic().start()
    try:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
        review = build_review(from_paths(root, [], load_rubric(None)))
    finally:
        fake.stop()
    assert [f.rule for f in review.findings] == ["schema.file-too-large"]
    assert calls == [] and fake.requests == [] and review.verdict == "REQUEST_CHANGES"


def test_a_nul_byte_late_in_the_file_marks_it_binary():
    data = claim_text(TITLE, body="x" * 20_000 + "\x00 hidden\n").encode()
    claim = reviewer.parse.parse_claim("a.md", data)
    assert [p.rule for p in claim.problems] == ["schema.binary-file"] and claim.unreadable


def test_each_request_has_its_own_nonce_and_the_cache_still_hits(tmp_path, monkeypatch):
    root = write_tree(tmp_path / "kb", {
        f"domains/x/{TITLE}.md": own_claim(TITLE, domain="x", body="A 2024 audit.\n")})
    fake = FakeAnthropic().start()
    try:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
        monkeypatch.setenv("CLAIM_REVIEW_CACHE_DIR", str(tmp_path / "one"))
        build_review(from_paths(root, [], load_rubric(None)))
        monkeypatch.setenv("CLAIM_REVIEW_CACHE_DIR", str(tmp_path / "two"))
        build_review(from_paths(root, [], load_rubric(None)))
        again = build_review(from_paths(root, [], load_rubric(None)))
    finally:
        fake.stop()
    first, second = fake.requests
    assert first.nonce and second.nonce and first.nonce != second.nonce
    assert f"<untrusted_{first.nonce}_claim" in first.raw_text
    assert again.judge.cache_hits == 1 and len(fake.requests) == 2
