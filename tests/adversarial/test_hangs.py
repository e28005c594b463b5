"""Class 3: bounded work on hostile input. Patterns applied to claim text run in linear
time, the rubric loader caps YAML aliases, and a judge request that trickles its answer
is cut off by an overall deadline. Timings are generous bounds (about 100 times what
the work takes here): the broken versions took tens of seconds or never ended."""

from __future__ import annotations

import time

import pytest
from conftest import claim_text

from reviewer.parse import parse_claim
from reviewer.rubric import RubricError, load_rubric

HOSTILE_LINES = [
    "# a" + " " * 2200 + "b",  # H1 whose closing-hash pattern backtracked cubically
    "## x" + " \t" * 3000 + "#" * 10 + "y",  # a heading that ends in text after hashes
    "1" * 20000,  # a digit run: evidence patterns with adjacent quantifiers over digits
    "`" * 3000 + "a" + "``" * 3000,  # inline code spans of every length
    "[[" * 5000 + "]" * 5000,  # wiki-link openers that never close
    "<!-- claim-review-disable-next-line " + "x, " * 3000 + " -- " + " " * 3000,
]


def review_text(text: str, tmp_path) -> float:
    from conftest import run_check, write_tree

    root = write_tree(tmp_path / "kb", {"domains/x/Hostile note.md": text,
                                        "domains/x/Other.md": claim_text("Other note here")})
    start = time.monotonic()
    run_check(root, [root / "domains/x/Hostile note.md"])
    return time.monotonic() - start


@pytest.mark.parametrize("line", HOSTILE_LINES, ids=["h1", "h2", "digits", "backticks",
                                                     "brackets", "directive"])
def test_a_hostile_line_in_the_body_is_reviewed_in_linear_time(line, tmp_path):
    text = claim_text("Hostile note", body=(line + "\n") * 3, confidence="proven")
    assert review_text(text, tmp_path) < 3.0


@pytest.mark.parametrize("line", HOSTILE_LINES[:2])
def test_a_hostile_title_parses_at_once(line):
    start = time.monotonic()
    claim = parse_claim("x.md", ("---\ntype: claim\n---\n" + line + "\n").encode())
    assert time.monotonic() - start < 0.5 and claim.title_line is None or claim.title


def test_a_yaml_alias_bomb_in_the_rubric_is_refused_at_once(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True))
    assert len(bomb.encode()) < 500
    path = tmp_path / ".claim-review.yaml"
    path.write_text(bomb, encoding="utf-8")
    start = time.monotonic()
    with pytest.raises(RubricError, match="expands to more than"):
        load_rubric(None, tmp_path)
    assert time.monotonic() - start < 2.0


def test_a_frontmatter_alias_bomb_is_a_finding_not_a_hang():
    bomb = "---\na: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)) + "---\n# T\n"
    start = time.monotonic()
    claim = parse_claim("x.md", bomb.encode())
    assert [p.rule for p in claim.problems] == ["schema.unsafe-yaml"]
    assert time.monotonic() - start < 2.0


def test_a_judge_answer_trickling_one_byte_at_a_time_is_cut_off(tmp_path, monkeypatch):
    """httpx's read timeout restarts with every byte; the overall deadline does not."""
    from conftest import own_claim, run_check, write_tree
    from fakes.anthropic_server import FakeAnthropic, Reply, passing

    from reviewer.change import from_paths
    from reviewer.pipeline import build_review

    fake = FakeAnthropic().start()
    try:
        fake.responder = lambda body: Reply(body=passing(body).body, trickle=0.05)
        root = write_tree(tmp_path / "kb", {
            ".claim-review.yaml": "judge:\n  timeout: 1\n  retries: 0\n  time_budget: 30\n",
            "domains/x/Bus lanes cut trip times on congested arterials.md":
                own_claim("Bus lanes cut trip times on congested arterials", domain="x")})
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
        monkeypatch.setenv("CLAIM_REVIEW_CACHE_DIR", str(tmp_path / "cache"))
        start = time.monotonic()
        result = build_review(from_paths(root, [], load_rubric(None, root)))
        took = time.monotonic() - start
        assert took < 5, took  # one second of deadline, not len(body) * 0.05 s
        assert "took longer than 1s" in result.judge.errors[0]["error"]
        assert run_check  # the deterministic review still stands
    finally:
        fake.stop()
