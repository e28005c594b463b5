"""The rubric's own judge criteria (custom rules of `kind: judge`), through the real
`anthropic` client against the fake Messages API (tests/fakes/anthropic_server.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import add_claim, claim_text, use_fake_judge
from fakes.anthropic_server import answer, structured

from reviewer.change import from_paths
from reviewer.cli import main
from reviewer.pipeline import build_review
from reviewer.render.markdown import render_markdown
from reviewer.review import APPROVE, REQUEST_CHANGES, Review
from reviewer.rubric import load_rubric

RUBRIC = """\
schema:
  domains: [urban-transit, soil-science]
judge:
  timeout: 0.5
  backoff: 0.01
  retries: 1
  time_budget: 20
custom:
  contradiction:
    kind: judge
    severity: {ceiling}
    description: Contradictions with existing claims are stated and argued.
    question: Does the claim contradict an existing claim it is shown without saying so?
    examples:
      fail: ["Says buses got slower while a linked claim says faster, and never says why."]
      pass: ["Disputes a linked claim openly and explains the difference."]
  proven-replication:
    kind: judge
    levels: [proven]
    description: Proven claims rest on replicated evidence.
    question: Is the evidence for this proven claim replicated?
"""
TITLE = "Bus lanes cut trip times on congested arterials"


@pytest.fixture
def fake(messages_server):
    return messages_server


@pytest.fixture
def jkb(kb, fake, monkeypatch, tmp_path) -> Path:
    use_fake_judge(monkeypatch, fake, tmp_path / "judge-cache")
    return kb


def judged(kb: Path, ceiling: str = "warning", **fields) -> Review:
    (kb / ".claim-review.yaml").write_text(RUBRIC.format(ceiling=ceiling), encoding="utf-8")
    fields.setdefault("description", "Measured across 40 corridors, the gain comes from fewer "
                                     "signal stops rather than higher top speeds")
    path = add_claim(kb, f"domains/urban-transit/{TITLE}.md", claim_text(TITLE, **fields))
    return build_review(from_paths(kb, [path], load_rubric(None, kb)))


def contradicts(body: dict, severity: str) -> object:
    return structured(answer(body, recommendation="request_changes", **{
        "custom.contradiction": {"verdict": "fail", "severity": severity,
                                 "quote": "Bus lanes cut trip times",
                                 "rationale": "A linked claim says the opposite. It is not "
                                              "named."}}))


def test_the_criterion_is_in_the_schema_and_the_prompt(jkb, fake):
    judged(jkb)
    body = fake.requests[0].body
    criteria = body["output_config"]["format"]["schema"]["properties"]["criteria"]
    assert criteria["required"][-1] == "custom.contradiction"
    assert set(criteria["properties"]["custom.contradiction"]["properties"]) == {
        "verdict", "severity", "rationale", "quote"}
    assert "custom.proven-replication" not in criteria["required"]  # a 'likely' claim
    prefix = body["system"][-1]["text"]
    assert "## Criterion `custom.contradiction`: the rubric's own question" in prefix
    assert "What you judge: Does the claim contradict an existing claim it is shown" in prefix
    assert "Fails, for example: Says buses got slower" in prefix
    assert "Passes, for example: Disputes a linked claim openly" in prefix
    assert "custom.proven-replication" in prefix  # the shared prefix holds every criterion
    assert "an entry for each criterion: schema, duplication, confidence, wiki_links, " \
           "source_quality, specificity, custom.contradiction.\n" in fake.requests[0].user_text


def test_a_level_limits_which_claims_are_asked(jkb, fake):
    judged(jkb, confidence="proven")
    required = fake.requests[0].body["output_config"]["format"]["schema"]["properties"][
        "criteria"]["required"]
    assert required[-2:] == ["custom.contradiction", "custom.proven-replication"]


@pytest.mark.parametrize(("ceiling", "model_says", "expected", "verdict"), [
    ("warning", "error", "warning", APPROVE),  # never above the rule's severity
    ("error", "error", "error", REQUEST_CHANGES),
    ("error", "info", "info", APPROVE),  # the judge may rate a failure lower
])
def test_a_failed_criterion_is_a_custom_finding_at_most_at_its_severity(
        jkb, fake, ceiling, model_says, expected, verdict):
    fake.push(lambda body: contradicts(body, model_says))
    result = judged(jkb, ceiling)
    found = [f for f in result.findings if f.check == "custom"]
    assert [(f.rule, f.severity, f.source, f.line) for f in found] == [
        ("custom.contradiction", expected, "judge", 11)]
    assert found[0].message == "A linked claim says the opposite. It is not named"
    assert found[0].extras == {"quote": "Bus lanes cut trip times"}
    assert result.verdict == verdict
    assert result.judge.notes["custom.contradiction"][0]["verdict"] == "fail"


def test_severity_off_is_never_asked(jkb, fake):
    result = judged(jkb, "off")
    required = fake.requests[0].body["output_config"]["format"]["schema"]["properties"][
        "criteria"]["required"]
    assert "custom.contradiction" not in required
    assert "custom.contradiction" not in fake.requests[0].body["system"][-1]["text"]
    assert result.judge.errors == []


def test_a_pass_is_a_note_in_the_seventh_section(jkb, fake):
    result = judged(jkb)
    body = render_markdown(result)
    section = body.split("### 7. Custom rules\n")[1].split("---")[0]
    assert "judge on `custom.contradiction`: **pass**: The claim meets the " \
           "custom.contradiction criterion." in section
    six = body.split("### 6. Specificity\n")[1].split("### 7.")[0]
    assert "judge: **pass**" in six and "custom." not in six


def test_the_failure_shows_in_json_and_explain(jkb, fake):
    fake.push(lambda body: contradicts(body, "warning"))
    (jkb / ".claim-review.yaml").write_text(RUBRIC.format(ceiling="warning"), encoding="utf-8")
    path = add_claim(jkb, f"domains/urban-transit/{TITLE}.md", claim_text(TITLE))
    out = CliRunner().invoke(main, ["check", "--kb", str(jkb), "--format", "json", str(path)])
    assert '"rule": "custom.contradiction"' in out.stdout and '"source": "judge"' in out.stdout
    explained = CliRunner().invoke(main, ["explain", "--kb", str(jkb), "contradiction"])
    lines = explained.output.splitlines()
    assert lines[0] == ("custom.contradiction — severity: at most warning (LLM judge) "
                        "(custom: Custom rules)")
    assert "question: Does the claim contradict an existing claim it is shown without " \
           "saying so?" in lines


def test_a_custom_failure_the_base_version_had_is_existing():
    """In diff and pr, a judge finding is existing when the base version's cached answer
    failed the same criterion: for a custom criterion, the rule names it."""
    from reviewer.compare import BaseReview, classify
    from reviewer.findings import Finding
    from reviewer.review import FileReport

    def finding(check: str, rule: str) -> Finding:
        return Finding(check, rule, "warning", "a.md", 3, "m", source="judge")

    found = [finding("custom", "custom.contradiction"), finding("custom", "custom.scope"),
             finding("confidence", "confidence.judge")]
    report = FileReport("a.md", found)
    base = BaseReview(reports={"a.md": FileReport("a.md")},
                      judge_failures={"a.md": {"custom.contradiction", "confidence"}})
    classify(report, base)
    assert [f.status for f in report.findings] == ["existing", "new", "existing"]
