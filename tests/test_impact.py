"""`claim-review rubric impact` and the functions `pr` can call: a rubric change, measured
as the findings it adds, removes and re-grades over the whole knowledge base."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import add_claim, git, own_claim

from reviewer.cli import main
from reviewer.impact import impact_of_change, impact_table
from reviewer.rubric import KB_CONFIG

OLD = "schema:\n  domains: [urban-transit, soil-science]\n"
NEW = OLD + """\
checks:
  schema:
    severity: {unknown-field: off}
  source_quality:
    severity: {undated-source: error}
  specificity:
    min_words: 9
"""
# rule, before, after, added, removed, severity changed
ROWS = [["schema.unknown-field", "1", "0", "0", "-1", "0"],
        ["source_quality.undated-source", "1", "1", "0", "0", "1"],
        ["specificity.label-title", "0", "1", "+1", "0", "0"],
        ["specificity.short-title", "0", "3", "+3", "0", "0"]]
BUS = "Bus lanes cut trip times on congested arterials"


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def base(kb) -> Path:
    """The conftest knowledge base plus a claim with an unknown field and one with an
    undated source. With NEW: the unknown field is off, the undated source an error, and
    four titles under nine words are short (one, with no verb, a label)."""
    add_claim(kb, f"domains/urban-transit/{BUS}.md", own_claim(BUS, mood="calm"))
    night = "Night buses raise weekend ridership in city centres"
    add_claim(kb, f"domains/urban-transit/{night}.md",
              own_claim(night, source="Transit Agency Corridor Review"))
    (kb / KB_CONFIG).write_text(OLD, encoding="utf-8")
    return kb


def table_rows(output: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines()
            if line.split()[:1] and "." in line.split()[0] and len(line.split()) == 6
            and line.split()[1].isdigit()]


def test_against_a_file(base, tmp_path):
    old = tmp_path / "old.yaml"
    old.write_text(OLD, encoding="utf-8")
    (base / KB_CONFIG).write_text(NEW, encoding="utf-8")
    result = cli("rubric", "impact", "--kb", str(base), "--against", str(old))
    assert result.exit_code == 0, result.output
    out = result.output
    assert table_rows(out) == ROWS
    assert "  claims reviewed: 4 before, 4 after" in out
    assert "  claims with a blocking finding: 0 before, 2 after" in out
    assert "  findings: 4 before, 7 after (4 added, 1 removed, 1 at another severity)" in out
    assert "specificity.short-title, added:\n  domains/urban-transit/" + BUS + ".md:12: " \
           "warning: title '" + BUS + "' is 8 words, fewer than 9" in out
    assert "schema.unknown-field, removed:\n  domains/urban-transit/" + BUS + ".md:9: info: " \
           "field 'mood' is not in the rubric's schema" in out
    assert "source_quality.undated-source, severity changed:\n  domains/urban-transit/Night" \
           in out and ".md:7: warning -> error: " in out
    assert "duplication" not in out and "no-counter-evidence" not in out  # unchanged rules


def test_against_a_git_ref_and_in_json(base):
    git(base, "init", "-q")
    git(base, "add", "-A")
    git(base, "commit", "-q", "-m", "old rubric")
    (base / KB_CONFIG).write_text(NEW, encoding="utf-8")
    result = cli("rubric", "impact", "--kb", str(base), "--against", "HEAD", "--examples", "1")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Impact of the rubric change, .claim-review.yaml at "
                                    "HEAD -> the working tree's .claim-review.yaml\n")
    assert table_rows(result.output) == ROWS
    assert "specificity.short-title, added (of 3):" in result.output
    data = json.loads(cli("rubric", "impact", "--kb", str(base), "--against", "HEAD",
                          "--format", "json").output)
    assert [[r["rule"], r["before"], r["after"], r["added"], r["removed"],
             r["severity_changed"]] for r in data["rules"]] == \
        [[r[0], int(r[1]), int(r[2]), abs(int(r[3])), abs(int(r[4])), int(r[5])] for r in ROWS]
    assert data["blocking"] == {"before": 0, "after": 2}
    assert len(data["rules"][3]["examples"]["added"]) == 3


def test_against_a_built_in_rubric_and_a_bad_name(base):
    result = cli("rubric", "impact", "--kb", str(base), "--against", "teleo-codex")
    assert result.exit_code == 0, result.output
    # teleo-codex's domains do not include urban-transit: every claim gets invalid-domain
    assert ["schema.invalid-domain", "4", "0", "0", "-4", "0"] in table_rows(result.output)
    bad = cli("rubric", "impact", "--kb", str(base), "--against", "no-such-thing")
    assert bad.exit_code == 2
    assert "--against no-such-thing: no such file, built-in rubric" in bad.output


def test_a_pull_request_that_changes_the_rubric_gets_the_table(base):
    """impact_of_change measures the base tree with the base's and the head's rubric; the
    markdown escapes claim text, since it is posted."""
    odd = "Bus <b>lanes</b> speed up @team trips"
    add_claim(base, f"domains/urban-transit/{odd}.md", own_claim(odd))
    git(base, "init", "-q", "-b", "main")
    git(base, "add", "-A")
    git(base, "commit", "-q", "-m", "base")
    git(base, "checkout", "-q", "-b", "tune")
    add_claim(base, "domains/urban-transit/Unrelated.md", own_claim("Unrelated note"))
    git(base, "add", "-A")
    git(base, "commit", "-q", "-m", "a claim, no rubric change")
    assert impact_of_change(base, "main", "HEAD") is None
    (base / KB_CONFIG).write_text(NEW, encoding="utf-8")
    git(base, "commit", "-q", "-am", "stricter rubric")
    impact = impact_of_change(base, "main", "HEAD")
    assert impact is not None and impact.reviewed == (5, 5)  # the base tree: no Unrelated
    body = impact_table(impact, markdown=True, examples=5)
    assert body.startswith("#### Impact of this rubric change\n")
    assert "| `specificity.short-title` | 0 | 4 | +4 | 0 | 0 |" in body
    assert "<b>" not in body and "&lt;b&gt;" in body and "@team" not in body
    assert "<details><summary>Examples</summary>" in body
    text = impact_table(impact, markdown=False)
    assert "specificity.short-title" in text and "| " not in text
