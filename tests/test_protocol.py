"""The verdict-marker protocol: one key rule, written by `render`, read by `pr` and `gate`."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from conftest import own_claim
from test_github import BOT, CLEAN, T, isolate, kb_repo, open_pull, run_pr, start_fake
from test_github_gate import gate

from reviewer.cli import main
from reviewer.protocol import (
    SigningKeyError,
    marker,
    metadata_line,
    read_marker,
    seal,
    signing_key,
    supersede,
    valid_key,
)
from reviewer.rubric import RubricError, load_rubric

VALID_KEYS = ["LEO", "rio", "A", "9", "x_y-z", "K" * 64]
INVALID_KEYS = ["LÉO", "", "LEO RIO", "LE:O", "K" * 65, "ＬＥＯ", "LEO\n", "<!--"]


@pytest.fixture(autouse=True)
def hermetic(monkeypatch):
    isolate(monkeypatch)


@pytest.mark.parametrize("key", VALID_KEYS)
def test_valid_keys_are_written_and_read_back(key):
    body = f"text\n{metadata_line({'head_sha': 'a' * 40, 'key': key})}\n{marker(key, 'APPROVE')}"
    found, problem = read_marker(body)
    assert problem is None and (found.key, found.verdict) == (key, "APPROVE")


@pytest.mark.parametrize("key", INVALID_KEYS)
def test_invalid_keys_are_refused_everywhere(key, tmp_path):
    assert not valid_key(key)
    with pytest.raises(ValueError):
        marker(key, "APPROVE")
    path = tmp_path / "rubric.yaml"
    path.write_text(f"reviewer:\n  key: {key!r}\n", encoding="utf-8")
    with pytest.raises(RubricError, match="'reviewer.key'"):
        load_rubric(path)


def test_leo_with_an_accent_is_a_configuration_error_naming_the_key(tmp_path):
    """Regression: `isalnum` let LÉO through; pr wrote a marker the gate never matched and
    never recognised its own verdict, so it posted again on every run."""
    (tmp_path / ".claim-review.yaml").write_text("reviewer:\n  key: LÉO\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--kb", str(tmp_path), "--no-llm"])
    assert result.exit_code == 2
    assert "'reviewer.key' 'LÉO' is not a valid reviewer key" in result.stderr


def test_metadata_cannot_close_its_comment_early():
    line = metadata_line({"head_sha": "a" * 40, "note": "x -->  <!-- VERDICT:LEO:APPROVE -->"})
    assert line.count("-->") == 1 and line.endswith(" -->")


@pytest.mark.parametrize("key", VALID_KEYS)
def test_every_valid_key_round_trips_through_pr_and_gate(key, tmp_path):
    fake = start_fake()
    try:
        rubric = f"reviewer:\n  key: '{key}'\nschema:\n  domains: [urban-transit]\n"
        repo, base, head = kb_repo(tmp_path / "kb", {
            f"{T}{CLEAN}.md": own_claim(CLEAN, body="Since [[Existing claim about buses]], a "
                                                    "2024 audit of 30 routes found a 12% gain.\n")},
            rubric=rubric)
        open_pull(fake, repo, base, head)
        first = run_pr(fake, repo)
        assert first.exit_code == 0, first.output
        [review] = fake.pulls[1].reviews
        assert review["body"].rstrip().endswith(marker(key, "APPROVE"))
        again = run_pr(fake, repo)  # pr recognises its own verdict and posts nothing
        assert again.exit_code == 0 and len(fake.pulls[1].reviews) == 1, again.output
        assert f"already has our {key}:APPROVE verdict" in again.stderr
        result = gate(fake, "--require", key, token=BOT)
        assert (result.exit_code, result.stdout) == (0, "eligible\n")
    finally:
        fake.stop()


def test_pr_refuses_an_invalid_key_on_the_command_line(tmp_path):
    fake = start_fake()
    try:
        repo, base, head = kb_repo(tmp_path / "kb", {f"{T}{CLEAN}.md": own_claim(CLEAN)})
        open_pull(fake, repo, base, head)
        result = run_pr(fake, repo, "--reviewer-key", "LÉO")
        assert result.exit_code == 2 and "not a valid reviewer key" in result.stderr
        assert fake.pulls[1].reviews == []
    finally:
        fake.stop()


# -- signed verdicts ---------------------------------------------------------------
SIGNING = b"s3cr3t-signing-key-of-forty-characters!!"


def signed_body(verdict: str = "APPROVE") -> str:
    meta = metadata_line({"head_sha": "a" * 40, "key": "LEO", "run": "1"})
    return seal(f"## review\n\nAll good.\n\n{meta}\n{marker('LEO', verdict)}\n", SIGNING)


def test_a_sealed_body_reads_back_signed_and_survives_line_ending_changes():
    body = signed_body()
    found, problem = read_marker(body, SIGNING)
    assert problem is None and found.signed_at is not None
    assert read_marker(body.replace("\n", "\r\n"), SIGNING)[1] is None  # as GitHub may store it
    assert read_marker(body.replace("All good.", "All good.   "), SIGNING)[1] is None


@pytest.mark.parametrize("change", [
    lambda b: b.replace("All good.", "All good, merge it."),
    lambda b: b.replace("VERDICT:LEO:APPROVE", "VERDICT:LEO:REQUEST_CHANGES"),
    lambda b: b.replace("a" * 40, "b" * 40),
    lambda b: re.sub(r'"signed_at":"[^"]+"', '"signed_at":"2020-01-01T00:00:00Z"', b),
    lambda b: re.sub(r',"sig":"[0-9a-f]+"', "", b),
], ids=["text", "verdict", "head", "time", "no signature"])
def test_any_change_to_a_sealed_body_breaks_its_signature(change):
    found, problem = read_marker(change(signed_body()), SIGNING)
    assert found is None and ("signature does not match" in problem or "not signed" in problem)


def test_without_a_key_a_signature_is_not_required_and_with_another_it_fails():
    assert read_marker(signed_body())[1] is None
    assert read_marker(signed_body(), b"another-key-" * 4)[0] is None


def test_a_short_or_empty_signing_key():
    assert signing_key({}) is None and signing_key({"CLAIM_REVIEW_SIGNING_KEY": "  "}) is None
    with pytest.raises(SigningKeyError, match="at least 32"):
        signing_key({"CLAIM_REVIEW_SIGNING_KEY": "short"})
    assert signing_key({"CLAIM_REVIEW_SIGNING_KEY": " " + "k" * 32 + "\n"}) == b"k" * 32


def test_a_superseded_body_holds_no_marker_and_says_by_what():
    text = supersede(signed_body(), "review 7 https://github.test/o/r/pull/1#pullrequestreview-7")
    assert read_marker(text) == (None, None)
    assert "claim-review-meta" not in text and "VERDICT" not in text
    assert text.rstrip().endswith("_Superseded by review 7 https://github.test/o/r/pull/1"
                                  "#pullrequestreview-7: this verdict no longer counts._")
