"""`claim-review calibrate`: agreement with human labels, per check, computed right; the
gates; and flip rates of the judge over repeated runs, through the fake Messages API."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import own_claim
from fakes.anthropic_server import FakeAnthropic, answer, structured

from reviewer.calibrate import Matrix, load_gold
from reviewer.change import from_paths
from reviewer.checks import BY_ID
from reviewer.cli import main
from reviewer.pipeline import build_review
from reviewer.rubric import load_rubric

GOLD = Path(__file__).resolve().parent.parent / "examples" / "gold"


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def row(output: str, name: str) -> list[str]:
    """The table row of a check: its cells after the name."""
    found = [line.split() for line in output.splitlines() if line.split()[:1] == [name]]
    assert len(found) == 1, output
    return found[0][1:]


# -- the shipped gold set --------------------------------------------------------------
def test_the_gold_set_table_matches_the_reviews_own_findings():
    """Every row of the --no-llm table is recomputed here from the review's findings."""
    result = cli("calibrate", "--gold", str(GOLD), "--no-llm")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("Calibration: 77 claims of ")
    assert "(deterministic checks only; a check fails on a new finding at or above error)" in out
    gold = load_gold(GOLD)
    review = build_review(from_paths(gold.kb, [c.file for c in gold.claims],
                                     load_rubric(None, gold.kb)), no_llm=True)
    failing = {(Path(r.path).resolve(), f.check) for r in review.files for f in r.findings
               if f.severity == "error"}
    human_rc = tool_rc = agree = 0
    for check in BY_ID:
        counts = Counter()
        for claim in gold.claims:
            human, tool = claim.fails[check], (claim.file, check) in failing
            counts[(human, tool)] += 1
        cells = row(out, check)
        assert cells[:4] == [str(counts[(True, True)]), str(counts[(False, True)]),
                             str(counts[(True, False)]), str(counts[(False, False)])], check
    for claim in gold.claims:
        tool = any((claim.file, check) in failing for check in BY_ID)
        human_rc += claim.request_changes
        tool_rc += tool
        agree += claim.request_changes == tool
    assert f"Verdict agreement: {100 * agree / 77:.1f}% ({agree} of 77 claims)" in out
    tp, fp = map(int, row(out, "verdict")[:2])
    assert tp + fp == tool_rc and human_rc == 63
    assert "Disagreements (" in out and "  label note: " in out


def test_json_for_tracking_over_time():
    result = cli("calibrate", "--gold", str(GOLD / "gold.yaml"), "--no-llm", "--format", "json")
    data = json.loads(result.output)
    assert data["claims"] == 77 and data["runs"] == 1 and data["judge"]["ran"] is False
    assert set(data["checks"]) == set(BY_ID)
    for check, cells in data["checks"].items():
        assert cells["tp"] + cells["fp"] + cells["fn"] + cells["tn"] == 77, check
    assert data["gate"] == {"passed": True, "failures": []}
    assert all(d["tool"] != d["human"] for d in data["disagreements"])


# -- a tiny gold set with a known confusion matrix ---------------------------------------
LABEL_1, LABEL_2 = "Bus lane rules", "Tram stop design"
CLEAN = ["Bus lanes cut trip times on congested arterials",
         "Night buses raise weekend ridership in city centres",
         "Off-board fare payment shortens dwell times at busy stops",
         "Stop consolidation speeds up routes with closely spaced stops"]


def tiny_gold(root: Path, kb: Path, labels: dict[str, str], rubric: str | None = None) -> Path:
    """Gold claims (title -> the human's specificity label) next to the kb fixture."""
    folder = root / "gold"
    (folder / "claims").mkdir(parents=True)
    entries = []
    for i, (title, label) in enumerate(labels.items()):
        (folder / "claims" / f"c{i}.md").write_text(own_claim(title), encoding="utf-8")
        entries.append({"path": f"claims/c{i}.md", "checks": {"specificity": label}})
    (folder / "gold.yaml").write_text(yaml.safe_dump({"kb": "../kb", "claims": entries}),
                                      encoding="utf-8")
    if rubric is not None:
        (kb / ".claim-review.yaml").write_text(rubric, encoding="utf-8")
    return folder


@pytest.fixture
def tiny(tmp_path, kb) -> Path:
    """TP 1 (a label the human fails), FP 1 (a label the human lets pass), FN 1 (a title
    the human fails and no rule catches), TN 3."""
    return tiny_gold(tmp_path, kb, {LABEL_1: "fail", LABEL_2: "pass", CLEAN[0]: "fail",
                                    CLEAN[1]: "pass", CLEAN[2]: "pass", CLEAN[3]: "pass"})


def test_the_numbers_of_a_known_confusion_matrix(tiny):
    """Observed agreement 4/6; chance agreement (2*2 + 4*4)/36 = 20/36; kappa =
    (24/36 - 20/36) / (16/36) = 0.25; precision = recall = F1 = 1/2."""
    result = cli("calibrate", "--gold", str(tiny), "--no-llm")
    assert result.exit_code == 0, result.output
    assert row(result.output, "specificity") == ["1", "1", "1", "3", "0.50", "0.50", "0.50",
                                                 "0.25"]
    assert row(result.output, "schema") == ["0", "0", "0", "0", "n/a", "n/a", "n/a", "n/a"]
    assert row(result.output, "verdict") == row(result.output, "specificity")
    assert "Verdict agreement: 66.7% (4 of 6 claims)" in result.output
    assert "c1.md\n  specificity: false alarm (human pass, tool fail: " \
           "specificity.label-title)" in result.output
    assert "c2.md\n  specificity: missed (human fail, tool pass)" in result.output
    markdown = cli("calibrate", "--gold", str(tiny), "--no-llm", "--format", "markdown")
    assert "| `specificity` | 1 | 1 | 1 | 3 | 0.50 | 0.50 | 0.50 | 0.25 |" in markdown.output
    data = json.loads(cli("calibrate", "--gold", str(tiny), "--no-llm",
                          "--format", "json").output)
    assert data["checks"]["specificity"] == {"tp": 1, "fp": 1, "fn": 1, "tn": 3,
                                             "precision": 0.5, "recall": 0.5, "f1": 0.5,
                                             "kappa": 0.25, "agreement": 0.6667}


def test_kappa_and_its_undefined_cases():
    m = Matrix(tp=9, fp=0, fn=2, tn=66)  # by hand: po = 75/77, pe = (9*11 + 68*66)/77^2
    po, pe = 75 / 77, (9 * 11 + 68 * 66) / 77 ** 2
    assert m.kappa == pytest.approx((po - pe) / (1 - pe)) == pytest.approx(0.8852, abs=1e-4)
    assert Matrix(tp=0, fp=0, fn=0, tn=5).kappa is None  # one label throughout: undefined
    assert Matrix(tp=0, fp=0, fn=3, tn=5).precision is None  # the tool never fails
    assert Matrix(tp=2, fp=2, fn=2, tn=2).kappa == 0.0  # no better than chance
    assert Matrix(tp=0, fp=3, fn=3, tn=0).kappa == -1.0  # always the opposite


def test_gates_name_the_check_below_the_threshold(tiny):
    low = cli("calibrate", "--gold", str(tiny), "--no-llm", "--min-kappa", "0.3")
    assert low.exit_code == 1
    assert "gate failed: specificity: kappa 0.25 is below --min-kappa 0.3" in low.output
    recall = cli("calibrate", "--gold", str(tiny), "--no-llm", "--min-recall", "0.6",
                 "--format", "json")
    assert recall.exit_code == 1
    assert "specificity: recall 0.50 is below --min-recall 0.6" in recall.stderr
    ok = cli("calibrate", "--gold", str(tiny), "--no-llm", "--min-kappa", "0.2",
             "--min-recall", "0.5")
    assert ok.exit_code == 0, ok.output


def test_a_bad_gold_file_is_a_usage_error(tmp_path, kb):
    gold = tmp_path / "gold.yaml"
    gold.write_text("kb: kb\nclaims:\n  - {path: missing.md, checks: {schema: fail}}\n")
    result = cli("calibrate", "--gold", str(gold), "--no-llm")
    assert result.exit_code == 2
    assert "missing.md: no such file" in result.output
    gold.write_text("kb: kb\nclaims:\n  - {path: x.md, checks: {schema: bad}}\n")
    (tmp_path / "x.md").write_text("x")
    assert "'schema' must be pass or fail" in cli("calibrate", "--gold", str(gold)).output


# -- the judge, run three times ------------------------------------------------------
JUDGED = """\
schema:
  domains: [urban-transit, soil-science]
judge:
  timeout: 2
  backoff: 0.01
  retries: 1
  severity: {specificity: error}
"""


def test_repeat_reports_flips_tokens_and_cost(tmp_path, kb, monkeypatch):
    """The fake fails the first claim's specificity on runs 1 and 3 only: its verdict and
    its specificity flip, the other claim's never; every run asks afresh."""
    server = FakeAnthropic().start()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    monkeypatch.setenv("CLAIM_REVIEW_CACHE_DIR", str(tmp_path / "judge-cache"))
    monkeypatch.delenv("CLAIM_REVIEW_MODEL", raising=False)
    asked: Counter = Counter()

    def responder(body):
        seen = json.dumps(body["messages"])
        title = next(t for t in CLEAN[:2] if t in seen)
        asked[title] += 1
        if title == CLEAN[0] and asked[title] != 2:
            return structured(answer(body, specificity={
                "verdict": "fail", "severity": "error", "quote": title,
                "rationale": "No figure says how much time is cut."}))
        return structured(answer(body))

    server.responder = responder
    gold = tiny_gold(tmp_path, kb, {CLEAN[0]: "fail", CLEAN[1]: "pass"}, rubric=JUDGED)
    try:
        result = cli("calibrate", "--gold", str(gold), "--repeat", "3")
    finally:
        server.stop()
    assert result.exit_code == 0, result.output
    out = result.output
    assert "(with the LLM judge, 3 runs;" in out
    assert asked == {CLEAN[0]: 3, CLEAN[1]: 3}  # no answer came from the local cache
    assert "Flips over 3 runs (claims whose outcome changed between runs):" in out
    assert "  verdict: 1 of 2 (50.0%)" in out
    assert "  specificity: 1 of 2 (50.0%)" in out
    assert "  confidence: 0 of 2 (0.0%)" in out
    assert "c0.md: verdict fail,pass,fail; specificity fail,pass,fail" in out
    assert row(out, "specificity")[:4] == ["1", "0", "0", "1"]  # the majority: 2 of 3 fail
    assert "judge claude-sonnet-5-5: 6 requests over 3 run(s)" in out
    assert "0 answers from the local cache, 0 errors; about $" in out
