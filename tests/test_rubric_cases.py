"""`claim-review rubric test`: the shipped cases pass and cover every rule of both built-in
rubrics, and a case that is wrong fails with a message that says how."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reviewer.cases import expectable_rules, run_cases, uncovered
from reviewer.checks import ALL_RULES, BY_ID
from reviewer.cli import main

CASES = Path(__file__).resolve().parent.parent / "rubrics" / "tests"
CLEAN = CASES / "specificity" / "clean.yaml"


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def outcomes():
    return run_cases(CASES)


def test_the_shipped_cases_pass_through_the_command():
    result = cli("rubric", "test", str(CASES))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[-1].endswith(" passed, 0 failed")
    assert int(lines[-1].split()[0]) >= 2 * len(BY_ID)
    assert "passed  confidence/clean.yaml [default]" in lines
    assert "passed  confidence/clean.yaml [teleo-codex]" in lines


def test_every_rule_of_both_built_in_rubrics_is_exercised(outcomes):
    assert expectable_rules() == list(ALL_RULES)
    assert uncovered(outcomes) == {"default": [], "teleo-codex": []}


def test_every_check_has_a_passing_and_a_failing_case(outcomes):
    for check in BY_ID:
        mine = [o for o in outcomes if o.case.startswith(f"{check}/")]
        assert any(o.passed and not o.expected for o in mine), f"{check}: no clean case"
        assert any(o.passed and any(e.rule.startswith(f"{check}.") for e in o.expected)
                   for o in mine), f"{check}: no failing case"


def test_change_cases_run_through_git(outcomes):
    """The rules only a change raises are tested by cases that declare a base."""
    by_case = {(o.case, o.rubric): o for o in outcomes}
    deleted = by_case[("teleo-codex/deleted-claim-is-an-error.yaml", "teleo-codex")]
    assert deleted.passed and deleted.expected[0].severity == "error"
    broken = by_case[("wiki_links/link-broken-by-change.yaml", "default")]
    assert broken.passed and broken.note_path is None


def write_case(folder: Path, name: str, expect: str, title: str | None = None,
               **keys) -> Path:
    """A copy of the specificity clean case with another `expect`, title (the file is
    renamed with it) or other keys."""
    body = CLEAN.read_text(encoding="utf-8")
    head, _, _ = body.partition("expect: []")
    head = head.replace("rubric: [default, teleo-codex]\n", "")
    if title is not None:
        head = head.replace("Soap dispensers in school toilets raise handwashing rates among "
                            "pupils aged six to eleven", title)
    extra = "".join(f"{key}: {value}\n" for key, value in keys.items())
    path = folder / name
    path.write_text(head + extra + expect + "\n", encoding="utf-8")
    return path


def test_a_broken_case_fails_and_says_what_is_missing_and_what_is_unexpected(tmp_path):
    write_case(tmp_path, "wants-a-label.yaml",
               "expect:\n  - {rule: label-title, line: 10}", rubric="default")
    write_case(tmp_path, "is-a-question.yaml", "expect: []", rubric="default",
               title="Do soap dispensers raise handwashing rates among pupils?")
    write_case(tmp_path, "clean.yaml", "expect: []", rubric="default")
    result = cli("rubric", "test", str(tmp_path))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "passed  clean.yaml [default]",
        "failed  is-a-question.yaml [default]",
        "    unexpected finding: specificity.question-title (error) on line 10: title 'Do "
        "soap dispensers raise handwashing rates among pupils?' is a question, not a "
        "proposition",
        "failed  wants-a-label.yaml [default]",
        "    missing finding: specificity.label-title on line 10",
        "1 passed, 2 failed",
    ]
    quiet = cli("rubric", "test", "--quiet", str(tmp_path))
    assert "clean.yaml" not in quiet.output and quiet.output.endswith("1 passed, 2 failed\n")


def test_a_severity_in_expect_is_checked(tmp_path):
    case = write_case(tmp_path, "severity.yaml", "expect:\n  - {rule: short-title, line: 10, "
                      "severity: error}", title="Dispensers raise handwashing",
                      rubric="default")
    result = cli("rubric", "test", str(case))
    assert result.exit_code == 1
    assert "missing finding: specificity.short-title (error) on line 10" in result.output
    assert "unexpected finding: specificity.short-title (warning) on line 10" in result.output


def test_an_invalid_case_fails_with_its_reason(tmp_path):
    write_case(tmp_path, "typo.yaml", "expect:\n  - {rule: brokn-link, line: 3}")
    write_case(tmp_path, "no-expect.yaml", "")
    write_case(tmp_path, "bad-layer.yaml", "expect: []", rubric="{checks: {specificity: "
               "{min_wordz: 3}}}")
    result = cli("rubric", "test", str(tmp_path))
    assert result.exit_code == 1
    out = result.output
    assert "invalid case: 'expect' names the unknown rule 'brokn-link'" in out
    assert "invalid case: 'expect' is missing; a clean case says 'expect: []'" in out
    assert "failed  bad-layer.yaml [case rubric]\n    invalid case: bad-layer.yaml: rubric: " \
        "unknown key 'checks.specificity.min_wordz'" in out
    assert out.endswith("0 passed, 3 failed\n")


def test_a_case_layer_and_the_run_rubric_change_what_is_reported(tmp_path):
    """min_words: 20 turns the clean title into a short one; the run's --rubric applies to
    cases that name no rubric."""
    write_case(tmp_path, "layer.yaml", "expect:\n  - {rule: short-title, line: 10}",
               rubric="{checks: {specificity: {min_words: 20}}}")
    result = cli("rubric", "test", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "passed  layer.yaml [default + case]" in result.output
    (tmp_path / "layer.yaml").unlink()
    write_case(tmp_path, "plain.yaml", "expect:\n  - {rule: short-title, line: 10}")
    strict = tmp_path / "strict.yml.txt"
    strict.write_text("checks:\n  specificity:\n    min_words: 20\n", encoding="utf-8")
    assert cli("rubric", "test", str(tmp_path)).exit_code == 1
    result = cli("rubric", "test", "--rubric", str(strict), str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "passed  plain.yaml [strict.yml.txt]" in result.output


def test_rubric_without_a_subcommand_still_prints_the_rubric(tmp_path):
    result = cli("rubric", "--kb", str(tmp_path))
    assert result.exit_code == 0
    assert result.output.startswith("# loaded from: ")
    assert "reviewer:" in result.output


def test_a_shared_kb_folder_and_hidden_yaml(tmp_path):
    """`kb: FOLDER` copies its notes in (a link to one resolves, another does not); a
    hidden YAML file in it is not taken for a case."""
    shared = tmp_path / "shared"
    (shared / "domains" / "health").mkdir(parents=True)
    (shared / "domains" / "health" / "Existing note.md").write_text("# Existing note\n")
    (shared / ".claim-review.yaml").write_text("not: a case\n")
    case = write_case(tmp_path, "links.yaml", "expect:\n  - {rule: broken-link, line: 14}",
                      rubric="default", kb="shared")
    case.write_text(case.read_text().replace(
        "once dispensers were fitted, and the rise held through the school year.\n",
        "once dispensers were fitted, and the rise held through the school year.\n"
        "    See [[Existing note]] and [[Missing note]].\n"))
    result = cli("rubric", "test", str(tmp_path))
    assert result.output.splitlines() == ["passed  links.yaml [default]", "1 passed, 0 failed"]


CUSTOM = CASES / "custom" / "existence.yaml"


def test_a_custom_rule_case_passes_and_a_broken_one_fails(tmp_path):
    good = cli("rubric", "test", str(CUSTOM))
    assert good.exit_code == 0 and good.output.splitlines() == [
        "passed  existence.yaml [default + case]", "1 passed, 0 failed"]
    text = CUSTOM.read_text(encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("{rule: custom.hype, line: 4, severity: error}",
                                   "{rule: custom.hype, line: 5, severity: error}")
                      .replace("words: [revolutionary, game changer]",
                               "words: [revolutionary, game changer, audit]"),
                      encoding="utf-8")
    result = cli("rubric", "test", str(broken))
    assert result.exit_code == 1
    assert "    missing finding: custom.hype (error) on line 5" in result.output
    assert "    unexpected finding: custom.hype (error) on line 4: the description says " \
           "'paradigm-shifting'" in result.output
    assert "    unexpected finding: custom.hype (error) on line 4: the description says " \
           "'audit'" in result.output  # and line 12 holds two findings where one is expected
    assert result.output.count("unexpected finding: custom.hype (error) on line 12") == 1


def test_a_case_naming_a_custom_rule_its_rubric_lacks_is_invalid(tmp_path):
    text = CUSTOM.read_text(encoding="utf-8")
    (tmp_path / "typo.yaml").write_text(text.replace("{rule: custom.hype, line: 4",
                                                     "{rule: custom.hyp, line: 4"),
                                        encoding="utf-8")
    (tmp_path / "judge.yaml").write_text(
        text.replace("      kind: existence\n", "      kind: judge\n      question: Is it "
                     "hype?\n").replace("      words: [revolutionary, game changer]\n", "")
        .replace("      patterns: ['(?i:paradigm[- ]shift\\w*)']\n", ""), encoding="utf-8")
    result = cli("rubric", "test", str(tmp_path))
    assert result.exit_code == 1
    assert "invalid case: 'expect' names custom.hyp, which the rubric does not declare" \
        in result.output
    assert "invalid case: 'expect' names custom.hype, a question for the LLM judge; rubric " \
           "tests run without the judge" in result.output


def test_coverage_asks_for_the_custom_rules_a_rubric_declares(tmp_path):
    (tmp_path / ".own.yaml").write_text(
        "extends: default\ncustom:\n  hype:\n    kind: existence\n    description: d\n"
        "    words: [revolutionary]\n", encoding="utf-8")
    write_case(tmp_path, "clean.yaml", "expect: []", rubric=".own.yaml")
    outcomes = run_cases(tmp_path)
    assert uncovered(outcomes)[".own.yaml"][-1] == "custom.hype"
    teleo = [o for o in run_cases(CASES / "teleo-codex") if o.family == "teleo-codex"]
    assert "custom.counter-evidence" in teleo[0].family_rules
    assert "confidence.no-counter-evidence" in teleo[0].family_off  # its custom rule says it
