"""claim-review fix: the certain fixes `pr` offers as suggestions, applied on disk, and
nothing else changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import claim_text, run_check

from reviewer.change import from_paths
from reviewer.inline import review_comments
from reviewer.pipeline import build_review
from reviewer.rubric import load_rubric

NAME = "domains/urban-transit/Bus lanes cut trip times on congested arterials.md"


def defective(newline: str = "\n") -> bytes:
    """A claim with two certain fixes (a misspelt link, a misspelt confidence), one
    uncertain finding (a link with no close note), trailing spaces, no final newline."""
    text = claim_text("Bus lanes cut trip times on congested arterials",
                      body="Since [[Existing claim about bussess]], trips shorten.   \n\n"
                           "A 2024 audit of 30 routes; see also [[Zzz qqq]].",
                      confidence="likley")
    return text.replace("\n", newline).encode("utf-8")


def cli(*args: str, env: dict | None = None):
    from reviewer.cli import main

    return CliRunner().invoke(main, list(args), env=env)


def lines_of(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_fix_changes_only_the_fixed_lines_and_keeps_every_other_byte(kb, newline):
    path = kb / NAME
    before = b"\xef\xbb\xbf" + defective(newline)
    path.write_bytes(before)
    result = cli("fix", "--kb", str(kb), "--write", str(path), env={"CI": ""})
    assert result.exit_code == 0, result.output
    after = path.read_bytes()
    old, new = lines_of(before), lines_of(after)
    assert len(old) == len(new)
    changed = [(a, b) for a, b in zip(old, new, strict=True) if a != b]
    assert changed == [
        (f"confidence: likley{newline}".encode(), f"confidence: likely{newline}".encode()),
        (f"Since [[Existing claim about bussess]], trips shorten.   {newline}".encode(),
         f"Since [[Existing claim about buses]], trips shorten.   {newline}".encode())]
    assert after.startswith(b"\xef\xbb\xbf") and after.endswith(b"[[Zzz qqq]].")
    assert "+Since [[Existing claim about buses]], trips shorten." in result.stdout
    assert result.stdout.startswith(f"--- a/{NAME}\n+++ b/{NAME}\n")
    assert "fixed 2 lines in 1 file" in result.stderr
    again = cli("fix", "--kb", str(kb), "--write", str(path))
    assert again.exit_code == 0 and "nothing to fix" in again.stderr and path.read_bytes() == after


def test_fix_applies_exactly_what_pr_suggests(kb):
    path = kb / NAME
    path.write_bytes(defective())
    change = from_paths(kb, [path], load_rubric(None, kb))
    review = build_review(change, no_llm=True)
    every_line = {NAME: set(range(1, 40))}
    comments = review_comments(review, change.ctx, every_line, limit=100, suggestions=True)
    suggested = {c["line"]: c["body"].split("```suggestion\n")[1].split("\n```")[0]
                 for c in comments if "```suggestion" in c["body"]}
    assert cli("fix", "--kb", str(kb), "--write", str(path)).exit_code == 0
    text = path.read_text(encoding="utf-8").split("\n")
    assert suggested and {n: text[n - 1] for n in suggested} == suggested
    old = defective().decode().split("\n")
    assert {n for n, (a, b) in enumerate(zip(old, text, strict=True), 1) if a != b} == \
        set(suggested)


def test_fix_is_a_dry_run_in_ci_unless_told_to_write(kb):
    path = kb / NAME
    path.write_bytes(defective())
    dry = cli("fix", "--kb", str(kb), str(path), env={"CI": "true"})
    assert dry.exit_code == 1  # fixes are pending, as `ruff format --check` says
    assert "+confidence: likely" in dry.stdout and path.read_bytes() == defective()
    assert "CI is set: a dry run" in dry.stderr and "would fix 2 lines in 1 file" in dry.stderr
    assert cli("fix", "--kb", str(kb), "--dry-run", str(path),
               env={"CI": ""}).exit_code == 1
    assert path.read_bytes() == defective()
    assert cli("fix", "--kb", str(kb), "--write", str(path), env={"CI": "true"}).exit_code == 0
    assert b"confidence: likely" in path.read_bytes()


def test_fix_leaves_a_file_that_changed_since_the_review(kb):
    from reviewer.fixer import plan, write

    path = kb / NAME
    path.write_bytes(defective())
    change = from_paths(kb, [path], load_rubric(None, kb))
    [planned] = plan(build_review(change, no_llm=True), change.ctx, kb)
    path.write_bytes(defective() + b"\nedited meanwhile\n")
    assert write(planned) is False
    assert path.read_bytes().endswith(b"edited meanwhile\n")


def test_fix_leaves_a_file_that_is_not_utf8(kb):
    path = kb / NAME
    data = defective().replace(b"trips shorten", b"trips shorten \xff")
    path.write_bytes(data)
    assert run_check(kb, [path]).findings  # still reviewed
    result = cli("fix", "--kb", str(kb), "--write", str(path))
    assert result.exit_code == 0 and path.read_bytes() == data


def test_fix_of_the_whole_base_with_nothing_to_fix(kb):
    result = cli("fix", "--kb", str(kb))
    assert result.exit_code == 0 and result.stdout == ""
    assert "nothing to fix" in result.stderr
    assert Path(kb / "domains").is_dir()
