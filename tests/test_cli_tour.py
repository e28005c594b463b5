"""Bugs found on a tour of the command line, each pinned: a closed standard output, a
folder argument and files.exclude."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import TODAY, claim_text, write_tree

REPO = Path(__file__).resolve().parent.parent
KB = REPO / "examples" / "kb"


def cli(*args: str, **kwargs):
    from reviewer.cli import main

    return CliRunner().invoke(main, list(args), **kwargs)


@pytest.mark.parametrize("args", [["explain", "schema"], ["rubric"],
                                  ["check", "--kb", str(KB), "--no-llm"]])
def test_a_reader_that_leaves_early_ends_the_command_quietly(args):
    """`claim-review explain schema | head -1`: the reader is gone before the write."""
    env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
    env["CLAIM_REVIEW_TODAY"] = TODAY
    proc = subprocess.Popen([sys.executable, "-m", "reviewer", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # as `head` does once it has its line
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 141  # 128 + SIGPIPE, as a shell reports; never 0
    assert err == b""


def test_a_folder_argument_honours_files_exclude(tmp_path):
    root = write_tree(tmp_path / "kb", {
        ".claim-review.yaml": "files:\n  exclude: ['drafts/**', '**/.*/**']\n",
        "notes/Bus lanes cut trip times on congested arterials.md":
            claim_text("Bus lanes cut trip times on congested arterials"),
        "notes/drafts/Half a thought.md": claim_text("Half a thought", domain="Not A Slug"),
        "drafts/Another half thought.md": claim_text("Another half thought"),
    })
    whole = cli("check", "--kb", str(root), "--no-llm", "--format", "json")
    folder = cli("check", "--kb", str(root), "--no-llm", "--format", "json", str(root / "drafts"))
    top = cli("check", "--kb", str(root), "--no-llm", "--format", "json", str(root))
    reviewed = {name: {f["path"] for f in json.loads(r.stdout)["files"]} | {
        json.loads(r.stdout)["summary"]["reviewed"]} for name, r in
        (("whole", whole), ("folder", folder), ("top", top))}
    assert reviewed["folder"] == {0}  # every note of drafts/ is excluded
    assert reviewed["top"] == reviewed["whole"]
    assert json.loads(whole.stdout)["summary"]["reviewed"] == 2  # notes/drafts/ is not drafts/


def test_a_named_file_is_still_reviewed_even_when_excluded(tmp_path):
    root = write_tree(tmp_path / "kb", {
        ".claim-review.yaml": "files:\n  exclude: ['drafts/**']\n",
        "drafts/Another half thought.md": claim_text("Another half thought"),
    })
    result = cli("check", "--kb", str(root), "--no-llm", "--format", "json",
                 str(root / "drafts" / "Another half thought.md"))
    assert json.loads(result.stdout)["summary"]["reviewed"] == 1
