"""Class 6 item: `pr --dry-run` prints the review body and its inline comments, and a
suggestion quotes a claim's line verbatim. On an Actions runner a line that starts with
`::command::` (after whitespace) or holds `##[command]` is a workflow command: claim text
must never issue one (`::error::` to fake an annotation, `::stop-commands::` to silence
the real ones, `::add-mask::` ...).
"""

from __future__ import annotations

import re

import pytest
from conftest import own_claim as claim
from test_github import CLEAN, TYPO, T, kb_repo, open_pull

from adversarial.github_kit import run_pr
from reviewer.render.annotations import inert

COMMAND = re.compile(r"^[\s\u200b-\u200f\ufeff]*::|##\[")


def commands_in(output: str) -> list[str]:
    """Lines the runner would read as a workflow command: it splits lines at \\r and \\n."""
    return [line for line in re.split(r"\r\n|\r|\n", output) if COMMAND.search(line)]


@pytest.mark.parametrize("line", [
    "::error file=README.md,line=1::the review found a secret",
    "   ::stop-commands::pwned",
    "\t::add-mask::Existing",
    "Plain text then ##[error]a forged error",
    "::save-state name=approved::yes",
])
def test_dry_run_output_never_holds_a_workflow_command_from_claim_text(fake, tmp_path, line):
    # the line also holds a mistyped link, so its fix is suggested: quoted verbatim
    text = f"Since [[Existing claim about buses]], a 2024 audit.\n{line} [[{TYPO}]] in 2024.\n"
    repo, base, head = kb_repo(tmp_path / "kb", {f"{T}{CLEAN}.md": claim(CLEAN, body=text)})
    open_pull(fake, repo, base, head)
    result = run_pr(fake, repo, "--dry-run", key=None)
    assert result.exit_code == 1, result.output
    assert "```suggestion" in result.stdout  # the claim's line is in the output
    assert commands_in(result.stdout) == []
    assert commands_in(result.stderr) == []
    assert fake.writes() == []


def test_the_posted_body_keeps_the_claim_line_as_written(fake, tmp_path):
    """Only what is printed is made inert; the suggestion GitHub applies is the real fix."""
    text = f"::error::x [[{TYPO}]] in 2024.\n"
    repo, base, head = kb_repo(tmp_path / "kb", {f"{T}{CLEAN}.md": claim(CLEAN, body=text)})
    open_pull(fake, repo, base, head)
    assert run_pr(fake, repo, key=None).exit_code == 1
    [comment] = fake.pulls[1].review_comments
    assert "```suggestion\n::error::x [[Existing claim about buses]] in 2024.\n```" \
        in comment["body"]


@pytest.mark.parametrize("text, shown", [
    ("::error::x", "\\::error::x"),
    ("  ::debug::y", "  \\::debug::y"),
    ("a ##[group]b", "a ##\\[group]b"),
    ("fine: a::b", "fine: a::b"),
    ("one\rtwo\u2028::three", "one\ntwo\n\\::three"),
])
def test_inert_escapes_only_what_could_be_a_command(text, shown):
    assert inert(text) == shown


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_gate_output_never_holds_a_workflow_command_from_a_path(fake, fmt):
    import json

    from test_github_gate import HEAD, verdict_body

    from adversarial.github_kit import run_gate

    path = "##[error]forged/::warning::x.md"
    fake.add_pull(1, "alice", HEAD, "c" * 40, files=[
        {"filename": ".github/" + path, "status": "added", "patch": ""}])
    fake.post_review(1, "claim-bot", verdict_body(HEAD), "APPROVE", HEAD)
    result = run_gate(fake, "--format", fmt, key=None)
    assert result.exit_code == 1
    assert commands_in(result.stdout) == []
    if fmt == "json":  # the same data once decoded
        assert any(path in line for line in json.loads(result.stdout)["blocking"])
