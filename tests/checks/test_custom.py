"""custom: rules a rubric declares (existence, substitution, required-section), checked at
load time, reported, explained, suppressed, baselined and fixed like the built-in rules."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import add_claim, git, own_claim, rules, run_check, the_finding, write_tree

from reviewer.checks import CHECKS, checks_for, custom, lookup_rule
from reviewer.cli import main
from reviewer.review import APPROVE, REQUEST_CHANGES
from reviewer.rubric import KB_CONFIG, RubricError, builtin_dir, load_rubric

TITLE = "Bus lanes cut trip times on congested arterials"
EVIDENCE = "A 2024 field trial of 1,200 sites measured a 14% reduction.\n"
CHALLENGES = "\n## Challenges\nNone are known yet.\n"
DOMAINS = "schema:\n  domains: [urban-transit, soil-science]\n"
DESCRIPTION = ("Measured across 40 corridors, the gain comes from fewer signal stops rather "
               "than higher top speeds")
# review() lines: description 4-5, confidence 6, source 7, H1 title 11, body from 13
HYPE = """\
custom:
  hype:
    kind: existence
    severity: error
    description: Hype words overstate what the evidence shows.
    words: [revolutionary, game changer]
    patterns: ['(?i:paradigm[- ]shift\\w*)']
"""
PLAIN = """\
custom:
  plain:
    kind: substitution
    description: Plain words read faster.
    words: {utilize: use, in order to: to}
    fix: true
"""
COUNTER = """\
custom:
  counter:
    kind: required-section
    levels: [likely, proven]
    description: A likely claim names its counter-evidence.
    sections: [Challenges, Counter-evidence]
    or_fields: [challenged_by]
"""


def with_rubric(kb: Path, text: str) -> None:
    (kb / KB_CONFIG).write_text(DOMAINS + text, encoding="utf-8")


def claim(kb: Path, title: str = TITLE, body: str = EVIDENCE + CHALLENGES, **fields) -> Path:
    fields.setdefault("description", DESCRIPTION)
    return add_claim(kb, f"domains/urban-transit/{title}.md", own_claim(title, body, **fields))


def review(kb: Path, title: str = TITLE, body: str = EVIDENCE + CHALLENGES, **fields):
    return run_check(kb, [claim(kb, title, body, **fields)])


def refused(tmp_path: Path, text: str) -> str:
    (tmp_path / KB_CONFIG).write_text(text, encoding="utf-8")
    with pytest.raises(RubricError) as caught:
        load_rubric(None, tmp_path)
    return str(caught.value)


# -- the check ------------------------------------------------------------------------
def test_a_rubric_without_custom_rules_has_the_six_checks_only(kb):
    rubric = load_rubric(None, kb)
    assert checks_for(rubric) == CHECKS
    assert lookup_rule("custom.hype", rubric) is None
    assert "custom" not in run_check(kb, []).summary()["by_check"]


def test_the_custom_check_keeps_the_check_contract(kb):
    with_rubric(kb, HYPE + COUNTER.replace("custom:\n", ""))
    own = checks_for(load_rubric(None, kb))[-1]
    assert (own.ID, own.TITLE) == ("custom", "Custom rules")
    assert own.RULES == {"custom.hype": "error", "custom.counter": "warning"}
    assert list(own.RULE_DOCS) == list(own.RULES)
    doc = own.__doc__
    assert doc.startswith("custom:")
    for heading in ("What it checks", "Options", "Failing example", "Passing example"):
        assert f"\n{heading}\n" in doc, heading


def test_existence_words_and_patterns_in_every_scope(kb):
    with_rubric(kb, HYPE)
    title = "Revolutionary bus lanes cut trip times on congested arterials"
    body = ("A paradigm shift: a 2024 trial of 1,200 sites measured a 14% reduction.\n"
            "Planners called it a GAME  changer.\n" + CHALLENGES)
    result = review(kb, title, body, description=DESCRIPTION.replace("the gain",
                                                                     "the revolutionary gain"))
    assert rules(result, "custom") == [(4, "custom.hype"), (11, "custom.hype"),
                                       (13, "custom.hype"), (14, "custom.hype")]
    found = [f for f in result.findings if f.check == "custom"]
    assert [f.extras["match"] for f in found] == ["revolutionary", "Revolutionary",
                                                  "paradigm shift", "GAME  changer"]
    assert found[1].message == "the title says 'Revolutionary'" and found[1].column == 3
    assert found[0].message == "the description says 'revolutionary'"
    assert found[0].severity == "error" and found[0].source == "validator"
    assert result.verdict == REQUEST_CHANGES
    assert result.summary()["by_check"]["custom"] == {"error": 4, "warning": 0, "info": 0}


def test_words_are_whole_words_and_comments_and_code_are_not_read(kb):
    with_rubric(kb, HYPE)
    body = (EVIDENCE + "The revolutions of 1848 and a counterrevolutionary press.\n"
            "<!-- revolutionary, said the leaflet -->\n```\nrevolutionary\n```\n"
            "<!-- a comment\nthat says revolutionary\nover lines -->\n" + CHALLENGES)
    assert rules(review(kb, body=body), "custom") == []


def test_a_phrase_matches_across_spaces_but_not_other_separators(kb):
    with_rubric(kb, HYPE)
    body = EVIDENCE + "A game-changer, they said.\n" + CHALLENGES
    assert rules(review(kb, body=body), "custom") == []


def test_scope_message_and_hint_templates(kb):
    with_rubric(kb, HYPE.replace("    words:", "    scope: [title]\n    message: \"'{match}' "
                                 "overstates the {scope}\"\n    hint: drop '{match}'\n"
                                 "    words:"))
    title = "Revolutionary bus lanes cut trip times on congested arterials"
    result = review(kb, title, "A paradigm shift, revolutionary.\n" + CHALLENGES)
    finding = the_finding(result, "custom.hype")
    assert (finding.line, finding.message, finding.hint) == (
        11, "'Revolutionary' overstates the title", "drop 'Revolutionary'")


def test_levels_and_types_limit_a_rule(kb):
    with_rubric(kb, HYPE.replace("    words:", "    levels: [proven]\n    words:"))
    title = "Revolutionary bus lanes cut trip times on congested arterials"
    assert rules(review(kb, title), "custom") == []
    assert rules(review(kb, title, confidence="proven"), "custom") == [(11, "custom.hype")]


def test_a_rule_can_apply_to_a_declared_document_type(kb):
    types = ("types:\n  source:\n    required: [type, title]\n    optional: [url]\n"
             "    checks: [wiki_links]\n")
    with_rubric(kb, types + HYPE.replace("    words:", "    types: [source]\n    words:"))
    note = add_claim(kb, "sources/Leaflet.md", "---\ntype: source\ntitle: Leaflet\n---\n\n"
                     "# Leaflet\n\nA revolutionary dispenser.\n")
    result = run_check(kb, [note, claim(kb, f"Revolutionary {TITLE.lower()}")])
    assert [(f.path, f.line) for f in result.findings if f.check == "custom"] == [
        ("sources/Leaflet.md", 8)]


def test_long_lines_are_read_up_to_the_cap(kb):
    with_rubric(kb, HYPE)
    body = EVIDENCE + "x " * 1100 + "revolutionary\n" + CHALLENGES
    assert rules(review(kb, body=body), "custom") == []  # past 2,000 characters of the line
    body = EVIDENCE + "x " * 900 + "revolutionary\n" + CHALLENGES
    assert rules(review(kb, body=body), "custom") == [(14, "custom.hype")]


def test_matching_adversarial_text_stays_fast(kb):
    """The patterns that pass the load-time vetting, on the text that hurts them most."""
    with_rubric(kb, HYPE.replace("['(?i:paradigm[- ]shift\\w*)']",
                                 "['\\w+ly\\b', '(?:,\\d+)*x', '.*foo']"))
    body = EVIDENCE + "\n".join(["a" * 1990, ",1" * 995, "f" * 1990] * 20) + "\n"
    started = time.monotonic()
    review(kb, body=body)
    assert time.monotonic() - started < 5


def test_substitution_hint_names_the_replacement_and_fix_applies_it(kb):
    with_rubric(kb, PLAIN)
    body = ("Utilize the lanes in order to save time; planners utilize it. "
            "A 2024 trial of 1,200 sites measured a 14% reduction.\n" + CHALLENGES)
    path = claim(kb, body=body)
    result = run_check(kb, [path])
    found = [f for f in result.findings if f.check == "custom"]
    assert [(f.line, f.extras["match"], f.extras["suggestion"]) for f in found] == [
        (13, "Utilize", "Use"), (13, "in order to", "to"), (13, "utilize", "use")]
    assert found[0].message == ("the body says 'Utilize' where the rubric prefers 'Use'")
    assert found[0].hint == "write 'Use' instead of 'Utilize'"
    assert found[0].severity == "warning" and result.verdict == APPROVE
    out = CliRunner().invoke(main, ["fix", "--kb", str(kb), "--write", str(path)])
    assert out.exit_code == 0, out.output
    assert "Use the lanes to save time; planners use it." in path.read_text(encoding="utf-8")
    assert rules(run_check(kb, [path]), "custom") == []


def test_a_substitution_without_fix_offers_none(kb):
    with_rubric(kb, PLAIN.replace("    fix: true\n", ""))
    path = claim(kb, body="We utilize it. " + EVIDENCE + CHALLENGES)
    before = path.read_text(encoding="utf-8")
    out = CliRunner().invoke(main, ["fix", "--kb", str(kb), "--write", str(path)])
    assert out.exit_code == 0 and path.read_text(encoding="utf-8") == before


def test_required_section_section_or_field(kb):
    with_rubric(kb, COUNTER)
    result = review(kb, body=EVIDENCE)
    finding = the_finding(result, "custom.counter")
    assert finding.line == 6 and finding.extras == {"level": "likely"}
    assert finding.message == ("a 'likely' note has no 'Challenges' or 'Counter-evidence' "
                               "section and no value in challenged_by")
    assert rules(review(kb, body=EVIDENCE + "\n## Counter-evidence: cost\nIt is dear.\n"),
                 "custom") == []
    assert rules(review(kb, body=EVIDENCE + "\n**Challenges.** None known.\n"), "custom") == []
    assert rules(review(kb, body=EVIDENCE, challenged_by=["Other claim"]), "custom") == []
    assert rules(review(kb, body=EVIDENCE, challenged_by=[]), "custom") == [(6,
                                                                             "custom.counter")]
    assert rules(review(kb, body=EVIDENCE, confidence="experimental"), "custom") == []
    assert rules(review(kb, body=EVIDENCE + "\n## Challenged assumptions\nx\n"), "custom") == [
        (6, "custom.counter")]  # a heading counts when the name ends at a non-letter


def test_severity_off_turns_a_rule_off_and_a_layer_can_do_it_by_name(kb):
    with_rubric(kb, HYPE + "  other:\n    kind: existence\n    description: x\n"
                "    words: [lanes]\n")
    (kb / "local.yaml").write_text(f"extends: {KB_CONFIG}\ncustom:\n  hype:\n"
                                   "    severity: off\n", encoding="utf-8")
    title = "Revolutionary bus lanes cut trip times on congested arterials"
    path = claim(kb, title)
    result = run_check(kb, [path], rubric=kb / "local.yaml")
    assert {f.rule for f in result.findings if f.check == "custom"} == {"custom.other"}


# -- suppression, baseline, diff ----------------------------------------------------------
def test_suppressed_by_long_or_short_name(kb):
    with_rubric(kb, HYPE)
    for name in ("custom.hype", "hype"):
        body = (EVIDENCE + f"<!-- claim-review-disable-next-line {name} -- quoting them -->\n"
                "They called it revolutionary.\n" + CHALLENGES)
        result = review(kb, body=body)
        assert rules(result, "custom") == [] and rules(result, "schema") == []
        assert [f.rule for r in result.files for f in r.suppressed] == ["custom.hype"]


def test_a_suppression_of_an_undeclared_custom_rule_is_invalid(kb):
    with_rubric(kb, HYPE)
    body = (EVIDENCE + "<!-- claim-review-disable-next-line custom.hyp -- typo -->\n"
            "Plain text.\n" + CHALLENGES)
    assert rules(review(kb, body=body), "schema") == [(14, "schema.invalid-suppression")]


def test_fingerprint_is_the_matched_text_and_the_baseline_accepts_it(kb):
    with_rubric(kb, HYPE)
    title = "Revolutionary bus lanes cut trip times on congested arterials"
    path = claim(kb, title)
    finding = the_finding(run_check(kb, [path]), "custom.hype")
    assert finding.fingerprint() == "custom.hype|match=Revolutionary"
    out = CliRunner().invoke(main, ["baseline", "--kb", str(kb)])
    assert out.exit_code == 0, out.output
    entries = (kb / ".claim-review-baseline.json").read_text(encoding="utf-8")
    assert '"rule": "custom.hype", "subject": "match=Revolutionary"' in entries
    result = CliRunner().invoke(main, ["check", "--kb", str(kb), "--no-llm", str(path)])
    assert result.exit_code == 0 and "[existing]" in result.output


def test_diff_counts_only_what_the_change_adds(kb):
    with_rubric(kb, HYPE)
    git(kb, "init", "-q", "-b", "main")
    title = "Revolutionary bus lanes cut trip times on congested arterials"
    path = claim(kb, title)
    git(kb, "add", "-A")
    git(kb, "commit", "-qm", "base")
    git(kb, "checkout", "-qb", "change")
    text = path.read_text(encoding="utf-8").replace("None are known yet.",
                                                    "A paradigm shift is unproven.")
    path.write_text(text, encoding="utf-8")
    git(kb, "commit", "-qam", "change")
    out = CliRunner().invoke(main, ["diff", "--repo", str(kb), "--no-llm", "--format", "json"])
    findings = json.loads(out.stdout)["files"][0]["findings"]
    assert [(f["rule"], f["match"], f["status"]) for f in findings
            if f["check"] == "custom"] == [
        ("custom.hype", "Revolutionary", "existing"), ("custom.hype", "paradigm shift", "new")]


# -- rendering ------------------------------------------------------------------------
def test_markdown_has_a_seventh_section_only_with_custom_rules(kb):
    title = "Revolutionary bus lanes cut trip times on congested arterials"
    path = claim(kb, title)
    plain = CliRunner().invoke(main, ["check", "--kb", str(kb), "--no-llm", "--format",
                                      "markdown", str(path)]).stdout
    assert "### 6. Specificity" in plain and "### 7." not in plain
    with_rubric(kb, HYPE)
    body = CliRunner().invoke(main, ["check", "--kb", str(kb), "--no-llm", "--format",
                                     "markdown", str(path)]).stdout
    section = body.split("### 7. Custom rules\n")[1].split("---")[0]
    assert "**error** `custom.hype` (line 11): the title says 'Revolutionary'." in section


def test_sarif_lists_custom_rules_with_their_description(kb):
    with_rubric(kb, HYPE)
    title = "Revolutionary bus lanes cut trip times on congested arterials"
    path = claim(kb, title)
    out = CliRunner().invoke(main, ["check", "--kb", str(kb), "--no-llm", "--format",
                                    "sarif", str(path)])
    run = json.loads(out.stdout)["runs"][0]
    rules_ = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    hype = rules_["custom.hype"]
    assert hype["fullDescription"]["text"] == "Hype words overstate what the evidence shows."
    assert hype["defaultConfiguration"]["level"] == "error" and "custom.internal-error" in rules_
    result = next(r for r in run["results"] if r["ruleId"] == "custom.hype")
    assert result["partialFingerprints"]["claimReview/v1"] == "custom.hype|match=Revolutionary"
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "custom.hype"


# -- explain --------------------------------------------------------------------------
def explain(kb: Path, name: str):
    return CliRunner().invoke(main, ["explain", "--kb", str(kb), name])


def test_explain_a_custom_rule_prints_its_description_and_settings(kb):
    with_rubric(kb, HYPE + PLAIN.replace("custom:\n", ""))
    for name in ("custom.hype", "hype"):
        out = explain(kb, name)
        assert out.exit_code == 0, out.output
        lines = out.output.splitlines()
        assert lines[0] == "custom.hype — severity: error (custom: Custom rules)"
        assert lines[2] == "Hype words overstate what the evidence shows."
        assert "words (whole, ignoring case): revolutionary, game changer" in lines
        assert "scope: title, description, body" in lines
    plain = explain(kb, "custom.plain").output
    assert "words (whole, ignoring case): utilize -> use, in order to -> to" in plain
    assert "fix: certain: claim-review fix and pull-request suggestions apply the " \
           "replacement" in plain


def test_explain_custom_lists_the_rubrics_rules(kb):
    out = explain(kb, "custom")
    assert out.exit_code == 0 and "(none: the rubric declares no custom rules" in out.output
    with_rubric(kb, HYPE + COUNTER.replace("custom:\n", ""))
    out = explain(kb, "custom").output
    assert out.startswith("custom — Custom rules\n\ncustom: the rubric's own rules")
    assert out.rstrip().endswith("  custom.hype: error\n  custom.counter: warning\n"
                                 "  custom.internal-error: error")


def test_explain_an_unknown_custom_rule_suggests_the_declared_one(kb):
    with_rubric(kb, HYPE)
    out = explain(kb, "custom.hyp")
    assert out.exit_code == 2 and "did you mean custom.hype" in out.output


# -- load-time validation -------------------------------------------------------------
RULE = "custom:\n  x:\n    kind: existence\n    description: d\n"


@pytest.mark.parametrize(("text", "says"), [
    (RULE + "    patterns: ['(a']\n", "pattern '(a' is refused: it is not a valid regular "
                                       "expression"),
    (RULE + "    patterns: ['(a+)+$']\n", "pattern '(a+)+$' is refused: it repeats a part "
                                         "whose unbounded repeat can run into"),
    (RULE + "    patterns: ['\\w+\\s*\\w+']\n", "it has two unbounded repeats in a row"),
    (RULE + "    patterns: ['(\\w)\\1']\n", "it uses a backreference"),
    (RULE + "    patterns: ['a*']\n", "it can match the empty text"),
    (RULE + f"    patterns: ['{'a' * 501}']\n", "it is longer than 500 characters"),
    (RULE + "    words: [x]\n    scope: [footer]\n", "'custom.x.scope' names unknown 'footer' "
                                                     "(known scopes: title, description, body)"),
    (RULE + "    words: [x]\n    levels: [sure]\n", "'custom.x.levels' names unknown 'sure'"),
    (RULE + "    words: [x]\n    types: [memo]\n", "'custom.x.types' names unknown 'memo'"),
    (RULE + "    words: ['-x']\n", "must be a word or phrase"),
    (RULE, "'custom.x' needs 'words' or 'patterns'"),
    (RULE + "    words: [x]\n    question: q\n", "unknown key 'custom.x.question' for a "
                                                  "existence rule"),
    (RULE + "    words: [x]\n    message: '{replacement}'\n", "uses {replacement}"),
    (RULE.replace("existence", "substitution") + "    words: {a: b}\n    hint: no\n",
     "'custom.x.hint' must name the replacement"),
    (RULE.replace("existence", "substitution") + "    words: [a]\n",
     "'custom.x.words' must map each word to its replacement"),
    ("custom:\n  x:\n    kind: existence\n    words: [x]\n", "'custom.x.description' is "
                                                            "required"),
    ("custom:\n  x:\n    kind: spelling\n", "'custom.x.kind' must be one of existence"),
    ("custom:\n  X:\n    kind: judge\n", "custom rule name 'X' must be lowercase"),
    ("custom:\n  broken-link:\n    kind: judge\n    description: d\n    question: q\n",
     "'custom.broken-link' is taken"),
    ("custom:\n  x:\n    kind: judge\n    description: d\n", "'custom.x.question' is required"),
    (RULE + "    words: [x]\n  x:\n    kind: judge\n    description: d\n    question: q\n",
     "custom rule 'x' is declared twice (lines 2 and 6)"),
    ("custom: [x]\n", "key 'custom' must be a mapping"),
    ("checks:\n  custom:\n    enabled: false\n", "unknown key 'checks.custom'"),
])
def test_a_bad_custom_rule_is_refused_when_the_rubric_loads(tmp_path, text, says):
    assert says in refused(tmp_path, text)


def test_the_cli_refuses_a_catastrophic_pattern_with_exit_2(tmp_path):
    (tmp_path / KB_CONFIG).write_text(RULE + "    patterns: ['(x+x+)+y']\n", encoding="utf-8")
    out = CliRunner().invoke(main, ["rubric", "--kb", str(tmp_path)])
    assert out.exit_code == 2
    assert out.output.startswith(f"claim-review: error: {tmp_path / KB_CONFIG}: "
                                 "'custom.x.patterns' pattern '(x+x+)+y' is refused")


def test_the_teleo_preset_declares_the_rest_of_its_checklist():
    rubric = load_rubric(builtin_dir() / "teleo-codex.yaml")
    own = custom.for_rubric(rubric)
    assert own.RULES == {"custom.counter-evidence": "warning"}
    assert own.CRITERIA == {"custom.contradiction": "warning", "custom.value-add": "warning",
                            "custom.scope": "warning"}
    assert rubric.severity("confidence", "confidence.no-counter-evidence", "info") == "off"
    data = yaml.safe_load((builtin_dir() / "teleo-codex.yaml").read_text(encoding="utf-8"))
    assert all(rule["description"] for rule in data["custom"].values())


def test_a_kb_can_tune_a_preset_rule_by_name(tmp_path):
    write_tree(tmp_path, {KB_CONFIG: "extends: teleo-codex\ncustom:\n  value-add:\n"
                                     "    severity: off\n  counter-evidence:\n"
                                     "    severity: error\n"})
    own = custom.for_rubric(load_rubric(None, tmp_path))
    assert own.CRITERIA["custom.value-add"] == "off"
    assert own.RULES["custom.counter-evidence"] == "error"


@pytest.mark.parametrize(("doc", "section", "end"), [
    ("docs/guide.md", "## Write a custom check", "## Write rubric tests"),
    ("README.md", "### Custom rules", "## The verdict marker protocol"),
])
def test_the_documented_examples_are_valid_rubrics(tmp_path, doc, section, end):
    import re

    text = (Path(__file__).resolve().parents[2] / doc).read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text.split(section)[1].split(end)[0], re.S)
    assert blocks
    rules_ = "".join(block.split("custom:\n", 1)[1] for block in blocks)
    (tmp_path / KB_CONFIG).write_text("custom:\n" + rules_, encoding="utf-8")
    own = custom.for_rubric(load_rubric(None, tmp_path))
    assert {r.kind for r in own.rules.rules} == {"existence", "substitution",
                                                 "required-section", "judge"}
