"""The pre-commit hook: its manifest, and `check --claims-only` as the hook runs it."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
MANIFEST = REPO / ".pre-commit-hooks.yaml"
PROPOSED = REPO / "examples" / "proposed"


def the_hook() -> dict:
    [hook] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return hook


def test_manifest_declares_a_python_hook_for_markdown():
    hook = the_hook()
    assert hook["id"] == "claim-review" and hook["language"] == "python"
    assert hook["types"] == ["markdown"]
    assert shlex.split(hook["entry"]) == ["claim-review", "check", "--claims-only"]
    assert hook["args"] == ["--no-llm"]  # a commit costs no API calls unless asked


def test_manifest_is_valid_for_pre_commit():
    clientlib = pytest.importorskip("pre_commit.clientlib")
    clientlib.load_manifest(str(MANIFEST))


@pytest.fixture
def staged(tmp_path, monkeypatch) -> list[str]:
    """A copy of the example base, run from its root as pre-commit runs a hook, and the
    paths pre-commit would pass: a new defective claim, a new clean one, a map, the
    README and a note outside the base's notes."""
    root = tmp_path / "kb"
    shutil.copytree(REPO / "examples" / "kb", root)
    shutil.copy(PROPOSED / "soil-microbial-diversity.md", root / "domains" / "soil-science")
    clean = ("expand-and-contract-schema-migrations-reduce-outage-risk-compared-with-single-"
             "step-database-changes.md")
    shutil.copy(PROPOSED / clean, root / "domains" / "software-reliability")
    (root / ".github").mkdir()
    (root / ".github" / "PULL_REQUEST_TEMPLATE.md").write_text("# Describe it\n",
                                                                encoding="utf-8")
    monkeypatch.chdir(root)
    return ["domains/soil-science/soil-microbial-diversity.md",
            f"domains/software-reliability/{clean}",
            "domains/soil-science/soil-science map.md", "README.md",
            ".github/PULL_REQUEST_TEMPLATE.md"]


def run_hook(files: list[str], *extra: str):
    from reviewer.cli import main

    hook = the_hook()
    command = shlex.split(hook["entry"])[1:] + hook["args"] + list(extra) + files
    return CliRunner().invoke(main, command)


def test_the_hook_reviews_the_staged_claims_and_skips_the_other_notes(staged):
    result = run_hook(staged, "--format", "json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["summary"]["reviewed"] == 2 and data["summary"]["skipped"] == 3
    assert [f["rule"] for r in data["files"] for f in r["findings"]] == \
        ["specificity.label-title"]


def test_the_hook_passes_when_only_non_claims_are_staged(staged):
    result = run_hook(staged[2:])
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("0 claims reviewed, 3 skipped (not claims): 0 errors, "
                                  "0 warnings, 0 info. Verdict: APPROVE\n")


def test_without_claims_only_a_named_map_is_reviewed_and_fails(staged):
    from reviewer.cli import main

    result = CliRunner().invoke(main, ["check", "--no-llm", staged[2]])
    assert result.exit_code == 1  # the map, reviewed as a claim: the reason for the option
