"""Document types other than the claim: declared in the rubric, reviewed with their own
schema and the checks they list; undeclared types are skipped in check, unreviewed in diff."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import claim_text, git, rules, run_check, write_tree

from reviewer.cli import main
from reviewer.rubric import RubricError, load_rubric

RUBRIC = """\
types:
  source:
    required: [type, title, url, status]
    optional: [tags]
    enums: {status: [unprocessed, processed]}
    checks: [wiki_links]
"""
SOURCE = "---\ntype: source\ntitle: A bus lane audit\nurl: https://example.org/a\n" \
         "status: processed\n---\n\nFeeds [[A claim that does not exist]].\n"


@pytest.fixture
def kb(tmp_path):
    return write_tree(tmp_path / "kb", {
        ".claim-review.yaml": RUBRIC,
        "inbox/audit.md": SOURCE,
        "notes/idea.md": "---\ntype: musing\n---\nA thought.\n",
        "domains/x/Bus lanes cut trip times on busy arterials.md":
            claim_text("Bus lanes cut trip times on busy arterials", domain="x",
                       body="A 2024 audit of 30 routes.\n")})


def test_a_note_of_a_declared_type_gets_its_schema_and_its_checks(kb):
    (kb / "inbox/audit.md").write_text(SOURCE.replace("status: processed", "status: done")
                                       .replace("url: https://example.org/a\n", "mood: x\n"))
    review = run_check(kb)
    found = [(f.path, f.line, f.rule) for f in review.findings]
    assert [(line, rule) for path, line, rule in found if path == "inbox/audit.md"] == [
        (4, "schema.unknown-field"),  # mood
        (5, "schema.invalid-value"),  # status: done
        (5, "schema.missing-field"),  # url, after the last field
        (8, "wiki_links.broken-link")]  # the one check the type lists
    assert not [r for p, _l, r in found if p == "inbox/audit.md" and r.split(".")[0] in
                ("duplication", "confidence", "specificity", "source_quality")]
    assert review.summary()["skipped"] == 1  # the musing: a type nobody declared


def test_a_valid_source_passes_and_is_counted(kb):
    (kb / "inbox/audit.md").write_text(SOURCE.replace(" [[A claim that does not exist]]", ""))
    review = run_check(kb)
    assert rules(review) == [] or all(r.endswith("no-counter-evidence") for _l, r in rules(review))
    assert review.summary()["other_types"] == 1


def test_in_a_change_a_declared_type_is_reviewed_and_an_undeclared_one_blocks(kb):
    git(kb, "init", "-q", "-b", "main")
    git(kb, "add", "-A")
    git(kb, "commit", "-qm", "base")
    git(kb, "checkout", "-qb", "feature")
    write_tree(kb, {"inbox/second.md": SOURCE.replace(" [[A claim that does not exist]]", "")})
    git(kb, "add", "-A")
    git(kb, "commit", "-qm", "source")
    result = CliRunner().invoke(main, ["diff", "--repo", str(kb), "--no-llm", "--format", "json"])
    assert result.exit_code == 0, result.output
    write_tree(kb, {"notes/idea.md": "---\ntype: musing\n---\nA second thought.\n"})
    git(kb, "add", "-A")
    git(kb, "commit", "-qm", "musing")
    result = CliRunner().invoke(main, ["diff", "--repo", str(kb), "--no-llm", "--format", "json"])
    data = json.loads(result.stdout)
    assert result.exit_code == 1
    assert [f["path"] for f in data["files"] if any(x["rule"] == "schema.unreviewed-path"
                                                    for x in f["findings"])] == ["notes/idea.md"]


@pytest.mark.parametrize("snippet, says", [
    ("types:\n  source: [type]\n", "'types.source' must be a mapping"),
    ("types:\n  source:\n    checks: [schema]\n", "use checks other than schema"),
    ("types:\n  source:\n    enums: {status: []}\n", "'types.source.enums' must be"),
    ("types:\n  source:\n    colour: red\n", "unknown key 'types.source.colour'"),
    ("types:\n  claim:\n    required: [type]\n", "is the claim type"),
])
def test_bad_type_declarations_are_configuration_errors(tmp_path, snippet, says):
    path = tmp_path / "r.yaml"
    path.write_text(snippet)
    with pytest.raises(RubricError) as caught:
        load_rubric(path)
    assert says in str(caught.value)
