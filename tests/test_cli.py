"""The command line against the real examples: exit codes, formats, explain and rubric."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import TODAY, write_tree

from reviewer.change import from_paths
from reviewer.checks import BY_ID, rule_doc
from reviewer.engine import run_checks
from reviewer.rubric import KB_CONFIG, load_rubric

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
KB = EXAMPLES / "kb"
PROPOSED = EXAMPLES / "proposed"
CATEGORY_TO_CHECK = {"schema": "schema", "duplication": "duplication",
                     "confidence": "confidence", "wiki links": "wiki_links",
                     "source quality": "source_quality", "specificity": "specificity"}
# A loose paraphrase cannot be told from a related claim without reading it: the deterministic
# check keeps the existing claim as a candidate and leaves the call to the judge.
JUDGE_ONLY = {"blameless-incident-reviews-uncover-more-contributing-causes-than-reviews-that-"
              "blame-individuals.md": "Blameless postmortems surface more contributing factors "
                                      "than postmortems that assign individual fault.md"}


def readme_table() -> dict[str, str]:
    """File name -> category, from the table in examples/README.md."""
    text = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([^`]+)` \| ([^|]+?) \|", text, re.MULTILINE)
    return {name: category.strip().lower() for name, category in rows}


def cli(*args: str):
    from reviewer.cli import main

    return CliRunner().invoke(main, list(args))


def check_json(*args: str) -> tuple[int, dict]:
    result = cli("check", "--no-llm", "--format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def by_name(data: dict) -> dict[str, list[dict]]:
    return {Path(f["path"]).name: f["findings"] for f in data["files"]}


@pytest.fixture(scope="module")
def proposed():
    """One review of every proposed example, shared by the tests of this module."""
    from reviewer.cli import main

    files = sorted(str(p) for p in PROPOSED.glob("*.md"))
    with pytest.MonkeyPatch.context() as patch:  # the autouse pin is function-scoped
        patch.setenv("CLAIM_REVIEW_TODAY", TODAY)
        result = CliRunner().invoke(main, ["check", "--kb", str(KB), "--no-llm", "--format",
                                           "json", *files])
    return result.exit_code, json.loads(result.stdout)


def test_readme_lists_every_proposed_file():
    table = readme_table()
    on_disk = {p.name for p in PROPOSED.glob("*.md")}
    assert set(table) == on_disk
    assert set(table.values()) <= {*CATEGORY_TO_CHECK, "clean"}


def test_proposed_examples_request_changes_with_all_six_checks(proposed):
    code, data = proposed
    assert code == 1
    assert data["verdict"] == "REQUEST_CHANGES"
    assert {f["check"] for report in data["files"] for f in report["findings"]} == set(BY_ID)
    assert data["summary"]["reviewed"] == len(readme_table())


@pytest.mark.parametrize(("name", "category"), sorted(readme_table().items()))
def test_each_example_shows_its_intended_defect(proposed, name, category):
    findings = by_name(proposed[1])[name]
    blocking = [f for f in findings if f["severity"] in ("error", "warning")]
    if category == "clean":
        assert blocking == []
    elif name in JUDGE_ONLY:
        assert [f for f in findings if f["check"] == "duplication"] == []
    else:
        assert CATEGORY_TO_CHECK[category] in {f["check"] for f in blocking}, findings


@pytest.mark.parametrize("name", sorted(JUDGE_ONLY))
def test_paraphrase_is_a_duplicate_candidate_for_the_judge(name):
    change = from_paths(KB, [PROPOSED / name], load_rubric(None, KB))
    run_checks(change.ctx)
    [candidates] = change.ctx.state["duplication"].values()
    assert Path(candidates[0]["path"]).name == JUDGE_ONLY[name]


def test_every_claim_of_the_example_kb_passes():
    code, data = check_json("--kb", str(KB))
    assert code == 0
    assert data["verdict"] == "APPROVE"
    assert data["summary"]["by_severity"]["error"] == 0
    assert data["summary"]["by_severity"]["warning"] == 0
    assert data["summary"]["reviewed"] == 32
    assert data["summary"]["skipped"] > 0  # maps, sources, the README, the schema note


def test_a_directory_reviews_its_claims_and_counts_the_rest():
    code, data = check_json("--kb", str(KB), str(KB / "domains" / "urban-transit"))
    assert code == 0
    assert data["summary"]["reviewed"] == 8
    assert data["summary"]["skipped"] == 1  # the map
    assert all(not Path(f["path"]).is_absolute() for f in data["files"])
    assert all(f["path"].startswith("domains/urban-transit/") for f in data["files"])


def test_clean_file_exits_0_in_every_format():
    clean = [n for n, c in readme_table().items() if c == "clean"][0]
    for fmt in ("text", "markdown", "json"):
        result = cli("check", "--kb", str(KB), "--no-llm", "--format", fmt, str(PROPOSED / clean))
        assert result.exit_code == 0, result.output
    assert result.stdout.strip().startswith("{")


def test_text_output_has_a_header_per_file_then_line_severity_rule():
    """Long file names stand once, on their own line; a count per rule ends the list."""
    name = "soil-microbial-diversity.md"
    result = cli("check", "--kb", str(KB), "--no-llm", str(PROPOSED / name))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].endswith(name) and ":" not in lines[0].rsplit("/", 1)[-1]
    assert re.match(r"  12: error specificity\.label-title title 'Soil microbial", lines[1])
    assert lines[3].split() == ["rule", "new", "existing"]
    assert lines[4].split() == ["specificity.label-title", "1", "0"]
    assert result.stdout.endswith("Verdict: REQUEST_CHANGES\n")


def test_explain_a_rule_prints_its_docs_and_effective_options(tmp_path):
    write_tree(tmp_path, {KB_CONFIG: "checks:\n  wiki_links:\n    suggestions: 5\n"
                                     "    severity: {ambiguous-link: error}\n"})
    result = cli("explain", "wiki_links.broken-link", "--kb", str(tmp_path))
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith("wiki_links.broken-link — severity: error (wiki_links: Wiki links)\n")
    assert rule_doc("wiki_links.broken-link") in out
    assert BY_ID["wiki_links"].__doc__.strip() not in out  # the rule's text, not its check's
    assert cli("explain", "broken-link", "--kb", str(tmp_path)).stdout == out  # short name
    assert cli("explain", "ambiguous-link", "--kb", str(tmp_path)).stdout.startswith(
        "wiki_links.ambiguous-link — severity: error")  # the rubric's severity, not the default
    options_text = out.split("check:\n", 1)[1].split("\n\nThe whole check")[0]
    options = yaml.safe_load(options_text)
    assert options == {"suggestions": 5, "suggestion_cutoff": 60,
                       "reference_fields": ["depends_on"], "reference_cutoff": 85}


def test_explain_a_check(tmp_path):
    result = cli("explain", "specificity", "--kb", str(tmp_path))
    assert result.exit_code == 0
    assert "Failing example" in result.stdout and "min_words: 4" in result.stdout


def test_explain_unknown_name_exits_2(tmp_path):
    result = cli("explain", "nope", "--kb", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.startswith("claim-review: error: unknown check or rule 'nope'")
    assert result.stdout == ""


def test_explain_a_typo_suggests_the_rule(tmp_path):
    result = cli("explain", "broken-lnk", "--kb", str(tmp_path))
    assert result.exit_code == 2
    assert "did you mean broken-link" in result.stderr


def test_explain_a_check_prints_the_rubrics_criterion_not_the_docstrings():
    out = cli("explain", "wiki_links").stdout
    assert "What the judge is asked" not in out  # the docstring's section is replaced ...
    assert "What the LLM judge is asked (judge.criteria.wiki_links):\nJudging by" in out


def test_rubric_prints_the_merged_rubric():
    result = cli("rubric", "--kb", str(KB))
    assert result.exit_code == 0
    first, rest = result.stdout.split("\n", 1)
    assert first.startswith("# loaded from: ") and first.endswith("default.yaml")
    assert str(KB / KB_CONFIG) in first
    data = yaml.safe_load(rest)
    assert data["schema"]["domains"] == ["urban-transit", "soil-science",
                                         "software-reliability", "public-health"]
    assert data["checks"]["specificity"]["min_words"] == 4  # merged from the default
    assert set(data["checks"]) == set(BY_ID)


def test_nonexistent_file_exits_2():
    result = cli("check", "--kb", str(KB), "--no-llm", str(PROPOSED / "No such claim.md"))
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_nonexistent_kb_exits_2_with_one_line(tmp_path):
    result = cli("check", "--kb", str(tmp_path / "nowhere"), "--no-llm")
    assert result.exit_code == 2
    assert result.stderr.startswith("claim-review: error: ")
    assert len(result.stderr.splitlines()) == 1


def test_real_process(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
    env["CLAIM_REVIEW_TODAY"] = TODAY
    done = subprocess.run(
        [sys.executable, "-m", "reviewer", "check", "--kb", str(KB), "--no-llm", "--format",
         "json", str(PROPOSED / "soil-microbial-diversity.md")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False)
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""
    data = json.loads(done.stdout)
    assert [(f["line"], f["rule"]) for f in data["files"][0]["findings"]] == \
        [(12, "specificity.label-title")]


def test_explain_a_judge_rule_shows_its_ceiling_and_criteria():
    result = cli("explain", "specificity.judge")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("specificity.judge — severity: at most warning")
    assert "judge.criteria.specificity" in result.output
    assert cli("explain", "nothing.judge").exit_code == 2


def test_a_named_pipe_is_a_finding_not_a_hang(tmp_path):
    pipe = tmp_path / "claim.md"
    os.mkfifo(pipe)
    result = cli("check", "--kb", str(KB), "--no-llm", "--format", "json", str(pipe))
    assert result.exit_code == 1
    rules = [x["rule"] for f in json.loads(result.stdout)["files"] for x in f["findings"]]
    assert rules == ["schema.not-a-regular-file"]


def test_a_bug_is_one_line_and_exit_2_never_a_verdict(monkeypatch):
    import reviewer.change

    def broken(*_args, **_kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(reviewer.change, "from_paths", broken)
    result = cli("check", "--kb", str(KB), "--no-llm")
    assert result.exit_code == 2
    assert result.output.startswith("claim-review: error: internal error, no verdict given")
    assert "VERDICT" not in result.output and "Traceback" not in result.output
