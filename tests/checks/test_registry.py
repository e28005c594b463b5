"""Every check module follows the same contract, documents itself, and is tested rule by rule."""

from pathlib import Path

import pytest
import yaml

from reviewer.checks import ALL_RULES, BY_ID, CHECKS
from reviewer.findings import SEVERITIES
from reviewer.rubric import builtin_dir

TESTS = Path(__file__).resolve().parent.parent
EXPECTED_IDS = ["schema", "duplication", "confidence", "wiki_links", "source_quality",
                "specificity"]


def test_the_six_checks_in_review_order():
    assert [m.ID for m in CHECKS] == EXPECTED_IDS
    assert list(BY_ID) == EXPECTED_IDS


@pytest.mark.parametrize("module", CHECKS, ids=lambda m: m.ID)
def test_module_contract(module):
    assert module.__name__ == f"reviewer.checks.{module.ID}"
    assert isinstance(module.TITLE, str) and module.TITLE
    assert module.RULES, "a check without rules reports nothing"
    for rule, severity in module.RULES.items():
        assert rule.startswith(f"{module.ID}."), rule
        assert rule == rule.lower() and " " not in rule, rule
        assert severity in SEVERITIES, (rule, severity)
    assert callable(module.validate)
    assert isinstance(module.DEFAULTS, dict)


@pytest.mark.parametrize("module", CHECKS, ids=lambda m: m.ID)
def test_docstring_is_the_documentation(module):
    doc = module.__doc__ or ""
    assert doc.startswith(f"{module.ID}:")
    for heading in ("What it checks", "Options", "Failing example", "Passing example"):
        assert f"\n{heading}\n" in doc, heading


def test_defaults_match_the_default_rubric():
    default = yaml.safe_load((builtin_dir() / "default.yaml").read_text(encoding="utf-8"))
    assert set(default["checks"]) == set(BY_ID)
    for check_id, section in default["checks"].items():
        options = {k: v for k, v in section.items() if k not in ("enabled", "severity")}
        assert options == BY_ID[check_id].DEFAULTS, check_id
        assert section["enabled"] is True and section["severity"] == {}, check_id


@pytest.mark.parametrize("module", CHECKS, ids=lambda m: m.ID)
def test_optional_hooks_follow_the_contract(module):
    """LIMITS and CHOICES name real options; hooks are callables with the documented
    parameters; a judge reference comes with the candidates it may name."""
    import inspect

    assert set(getattr(module, "LIMITS", {})) <= set(module.DEFAULTS)
    assert set(getattr(module, "CHOICES", {})) <= set(module.DEFAULTS)
    hooks = {"prepare": ["ctx", "options"], "validate_change": ["ctx", "options"],
             "vet_options": ["options"], "judge_candidates": ["claim", "ctx"],
             "fix": ["finding", "line", "claim", "ctx", "options"],
             "validate": ["claim", "ctx", "options"]}
    for name, params in hooks.items():
        if hasattr(module, name):
            assert list(inspect.signature(getattr(module, name)).parameters) == params, name
    assert hasattr(module, "judge_candidates") == hasattr(module, "JUDGE_REFERENCE")


def test_short_rule_names_are_unique_and_resolve():
    from reviewer.checks import PER_CHECK_RULES, SHORT_NAMES, lookup_rule

    shorts = [rule.split(".", 1)[1] for rule in ALL_RULES]
    assert len(shorts) == len(set(shorts)) == len(SHORT_NAMES)
    assert not set(shorts) & set(PER_CHECK_RULES)
    for rule in ALL_RULES:
        assert lookup_rule(rule) == lookup_rule(rule.split(".", 1)[1]) == rule
    assert lookup_rule("schema.judge") == "schema.judge" and lookup_rule("judge") is None


def test_rules_raised_while_reading_a_file_are_declared_by_schema():
    """parse.py and change.py report problems as schema rules; schema declares each."""
    import ast

    raised = set()
    for name in ("parse.py", "change.py"):
        tree = ast.parse((TESTS.parent / "reviewer" / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "problem":
                raised.add(f"schema.{node.args[1].value}")
    assert len(raised) >= 10
    assert raised <= set(BY_ID["schema"].RULES)
    doc = BY_ID["schema"].__doc__
    assert all(rule.split(".", 1)[1] in doc for rule in raised), "document them in schema"


def test_rule_ids_are_unique_across_checks():
    assert len(ALL_RULES) == sum(len(m.RULES) for m in CHECKS)


@pytest.mark.parametrize("module", CHECKS, ids=lambda m: m.ID)
def test_every_check_has_its_test_file(module):
    assert (TESTS / "checks" / f"test_{module.ID}.py").is_file()


def test_every_rule_is_exercised_by_a_test():
    this = Path(__file__).resolve()
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(TESTS.rglob("test_*.py"))
                     if p.resolve() != this)
    untested = [rule for rule in ALL_RULES if f'"{rule}"' not in text]
    assert untested == []


def test_the_readme_lists_every_rule_with_its_default_severity():
    """The README's table of checks is the first thing users read: it must not drift."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for number, module in enumerate(CHECKS, start=1):
        row = next(line for line in readme.splitlines()
                   if line.startswith(f"| {number} | `{module.ID}` |"))
        for rule, severity in module.RULES.items():
            short = f"`{rule.split('.', 1)[1]}`"
            assert short in row, f"README does not list {rule}"
            after = row[row.index(short):]
            assert after[after.index("("):].startswith(f"({severity}"), \
                f"README gives {rule} another severity than {severity}"


@pytest.mark.parametrize("module", CHECKS, ids=lambda m: m.ID)
def test_every_rule_has_its_documentation(module):
    """RULE_DOCS is the per-rule page: one paragraph per rule of RULES, with an example."""
    assert list(module.RULE_DOCS) == list(module.RULES)
    for rule, doc in module.RULE_DOCS.items():
        assert isinstance(doc, str), rule
        assert doc == doc.strip() and "\n" not in doc, f"{rule}: one paragraph"
        assert len(doc) >= 200, f"{rule}: a paragraph says what, why and shows an example"
        sentences = [s for s in doc.replace("e.g.", "eg").split(". ") if s.strip()]
        assert len(sentences) >= 3, f"{rule}: at least three sentences"
        assert "Example" in doc, f"{rule}: no example"
        assert doc.index("Example") > 100, f"{rule}: the example comes after the explanation"
