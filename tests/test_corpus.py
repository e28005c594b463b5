"""The whole real knowledge base through `check`: no crash, the JSON contract, every claim.

The corpus is not part of the project. Point CLAIM_REVIEW_CORPUS at a copy of the Teleo
Codex snapshot, or keep it at ../shared/corpora/teleo-kb beside the checkout.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from reviewer.cli import main

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("CLAIM_REVIEW_CORPUS",
                             REPO.parent / "shared" / "corpora" / "teleo-kb"))

pytestmark = pytest.mark.skipif(
    not (CORPUS / "domains").is_dir(),
    reason=f"the Teleo Codex corpus is not at {CORPUS} (set CLAIM_REVIEW_CORPUS)")


def test_every_claim_of_the_real_base_is_reviewed_without_a_crash():
    result = CliRunner().invoke(main, ["check", "--kb", str(CORPUS), "--no-llm", "--format",
                                       "json", "--rubric", str(REPO / "rubrics/teleo-codex.yaml")])
    assert result.exit_code == 1, result.output[-2000:]
    report = json.loads(result.output)
    assert set(report) >= {"verdict", "reviewer", "files", "summary"}
    under_claim_paths = [p for top in ("domains", "core", "foundations")
                         for p in (CORPUS / top).rglob("*.md") if p.name != "_map.md"]
    reviewed = {f["path"] for f in report["files"]}
    assert {p.relative_to(CORPUS).as_posix() for p in under_claim_paths} <= reviewed
    rules = [x["rule"] for f in report["files"] for x in f["findings"]]
    assert not [r for r in rules if r.endswith("internal-error")]
    checks = {r.split(".")[0] for r in rules}
    assert checks == {"schema", "duplication", "confidence", "wiki_links", "source_quality",
                      "specificity", "custom"}  # the preset's custom.counter-evidence
    for f in report["files"]:
        for x in f["findings"]:
            assert x["line"] >= 1 and x["message"] and x["severity"] in ("error", "warning",
                                                                         "info")
