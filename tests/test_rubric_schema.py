"""The JSON Schema of `.claim-review.yaml` and the rubric loader agree: every rubric the
project ships validates, and every range, choice and unknown key the schema states is
refused by the loader too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from reviewer.rubric import KB_CONFIG, RubricError, _read, builtin_dir, load_rubric
from reviewer.rubric_schema import rubric_schema

REPO = Path(__file__).resolve().parent.parent
SCHEMA = rubric_schema()
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)
SHIPPED = sorted(builtin_dir().glob("*.yaml")) + sorted(REPO.glob(f"examples/**/{KB_CONFIG}"))


def test_the_schema_is_a_valid_draft_7_schema():
    jsonschema.Draft7Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(REPO)))
def test_every_shipped_rubric_validates(path):
    assert list(VALIDATOR.iter_errors(_read(path))) == []


def test_the_examples_rubric_is_among_them():
    assert REPO / "examples" / "kb" / KB_CONFIG in SHIPPED and len(SHIPPED) >= 3


def rejected_by_loader(tmp_path: Path, layer: dict) -> str | None:
    (tmp_path / KB_CONFIG).write_text(yaml.safe_dump(layer), encoding="utf-8")
    try:
        load_rubric(None, tmp_path)
    except RubricError as exc:
        return str(exc)
    return None


def nested(path: tuple[str, ...], value: Any) -> dict:
    for key in reversed(path):
        value = {key: value}
    return value


@pytest.mark.parametrize(("path", "value"), [
    (("checks", "duplication", "error_threshold"), 101),
    (("github", "max_body_chars"), 100),
    (("verdict", "fail_on"), "info"),
    (("judge", "concurrency"), 0),
    (("checks", "schema", "title_match"), "sometimes"),
    (("checks", "schema", "severity", "binary-file"), "warning"),  # cannot be lowered
    (("checks", "schema", "severity", "no-such-rule"), "off"),
    (("checks", "schema", "nope"), 1),
    (("nope",), 1),
    (("judge", "pricing", "claude-x"), {"input": 1}),
])
def test_an_out_of_range_value_is_refused_by_both(tmp_path, path, value):
    layer = nested(path, value)
    assert list(VALIDATOR.iter_errors(layer)), "the schema accepts it"
    assert rejected_by_loader(tmp_path, layer), "the loader accepts it"


def constrained(node: dict, path: tuple[str, ...] = ()):
    """(path, node) of every property with a range or a choice."""
    if any(k in node for k in ("enum", "minimum", "maximum")):
        yield path, node
    for key, child in node.get("properties", {}).items():
        yield from constrained(child, (*path, key))


def outside(node: dict) -> list[Any]:
    values = []
    if "enum" in node:
        values.append("no-such-choice")
    step = 1 if node.get("type") == "integer" else 0.5
    if "minimum" in node:
        values.append(node["minimum"] - step)
    if "maximum" in node:
        values.append(node["maximum"] + step)
    return values


CONSTRAINED = list(constrained(SCHEMA))


def test_the_walk_finds_the_ranges_of_settings_and_checks():
    paths = {".".join(p) for p, _n in CONSTRAINED}
    assert {"verdict.fail_on", "github.max_body_chars", "judge.concurrency", "judge.effort",
            "checks.duplication.error_threshold", "checks.schema.title_match",
            "checks.wiki_links.severity.broken-link"} <= paths
    assert len(paths) > 80  # every rule severity, option range and setting choice


@pytest.mark.parametrize(("path", "node"), CONSTRAINED, ids=lambda x: ".".join(x)
                         if isinstance(x, tuple) else "")
def test_every_range_and_choice_of_the_schema_is_the_loaders(tmp_path, path, node):
    for value in outside(node):
        layer = nested(path, value)
        assert list(VALIDATOR.iter_errors(layer)), (path, value)
        assert rejected_by_loader(tmp_path, layer), (path, value)


def test_cli_prints_the_schema():
    from reviewer.cli import main

    result = CliRunner().invoke(main, ["rubric", "--json-schema"])
    assert result.exit_code == 0 and json.loads(result.stdout) == SCHEMA


def test_an_editor_comment_on_the_first_line_is_fine(tmp_path):
    (tmp_path / KB_CONFIG).write_text("# yaml-language-server: $schema=.claim-review.schema."
                                      "json\nextends: teleo-codex\n", encoding="utf-8")
    assert load_rubric(None, tmp_path).reviewer_name == "Leo (claim-review)"


GOOD_RULE = {"kind": "existence", "description": "d", "words": ["x"]}


@pytest.mark.parametrize("rule", [
    {**GOOD_RULE, "kind": "spelling"},
    {**GOOD_RULE, "scope": ["footer"]},
    {**GOOD_RULE, "question": "q"},  # a key of another kind
    {**GOOD_RULE, "severity": "fatal"},
    {"kind": "existence", "words": ["x"]},  # no description
    {**GOOD_RULE, "kind": "substitution"},  # words must map to replacements
    {"kind": "required-section", "description": "d"},  # no sections
    {"kind": "judge", "description": "d"},  # no question
    {"kind": "judge", "description": "d", "question": "q", "examples": {"maybe": []}},
])
def test_a_bad_custom_rule_is_refused_by_both(tmp_path, rule):
    layer = {"custom": {"x": rule}}
    assert list(VALIDATOR.iter_errors(layer)), "the schema accepts it"
    assert rejected_by_loader(tmp_path, layer), "the loader accepts it"


def test_a_bad_custom_rule_name_is_refused_by_both(tmp_path):
    layer = {"custom": {"Hype": GOOD_RULE}}
    assert list(VALIDATOR.iter_errors(layer)) and rejected_by_loader(tmp_path, layer)


def test_every_kind_of_custom_rule_validates(tmp_path):
    layer = {"custom": {
        "hype": GOOD_RULE,
        "plain": {"kind": "substitution", "description": "d", "words": {"utilize": "use"},
                  "fix": True, "scope": ["body"]},
        "limits": {"kind": "required-section", "description": "d", "levels": ["likely"],
                   "sections": ["Limitations"], "or_fields": ["challenged_by"]},
        "value": {"kind": "judge", "description": "d", "question": "q",
                  "examples": {"fail": ["a"], "pass": ["b"]}},
    }}
    assert list(VALIDATOR.iter_errors(layer)) == []
    assert rejected_by_loader(tmp_path, layer) is None
