"""The calibration gold set, examples/gold/gold.yaml: its structure, not the tool's agreement.

The labels are human judgements, so nothing here compares them with what claim-review
reports; these tests only keep the file well formed and the set large and balanced enough
to calibrate against.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

GOLD_DIR = Path(__file__).resolve().parent.parent / "examples" / "gold"
GOLD = GOLD_DIR / "gold.yaml"
CHECKS = ("schema", "duplication", "confidence", "wiki_links", "source_quality", "specificity")
VERDICTS = {"approve", "request_changes"}
ENTRY_KEYS = {"path", "verdict", "checks", "note"}


@pytest.fixture(scope="module")
def gold() -> dict:
    data = yaml.safe_load(GOLD.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and set(data) == {"kb", "claims"}, "top level is kb + claims"
    assert isinstance(data["claims"], list)
    return data


@pytest.fixture(scope="module")
def claims(gold) -> list[dict]:
    return gold["claims"]


def test_kb_is_the_example_knowledge_base(gold):
    kb = (GOLD_DIR / gold["kb"]).resolve()
    assert kb.is_dir()
    assert (kb / ".claim-review.yaml").is_file()


def test_every_entry_is_well_formed(claims):
    for entry in claims:
        assert isinstance(entry, dict) and set(entry) == ENTRY_KEYS, entry
        where = entry["path"]
        assert isinstance(where, str) and where.startswith("claims/") and where.endswith(".md")
        assert entry["verdict"] in VERDICTS, where
        checks = entry["checks"]
        assert isinstance(checks, dict) and set(checks) == set(CHECKS), where
        assert all(checks[c] in ("pass", "fail") for c in CHECKS), where
        note = entry["note"]
        assert isinstance(note, str) and note.strip() and "\n" not in note, where


def test_verdict_follows_from_the_checks(claims):
    for entry in claims:
        failed = any(entry["checks"][c] == "fail" for c in CHECKS)
        expected = "request_changes" if failed else "approve"
        assert entry["verdict"] == expected, entry["path"]


def test_listed_files_and_claim_files_are_the_same_set(claims):
    listed = [entry["path"] for entry in claims]
    assert len(listed) == len(set(listed)), "a claim is listed twice"
    for path in listed:
        assert (GOLD_DIR / path).is_file(), f"{path} is listed but does not exist"
    on_disk = {p.relative_to(GOLD_DIR).as_posix() for p in (GOLD_DIR / "claims").rglob("*")
               if p.is_file()}
    assert on_disk == set(listed), f"not listed: {sorted(on_disk - set(listed))}"


def test_claims_declare_a_domain_of_the_knowledge_base(gold, claims):
    """Files whose frontmatter parses name one of the kb's domains (a misfiled claim still
    names a valid one); the ones that do not parse are labelled schema failures."""
    rubric = yaml.safe_load((GOLD_DIR / gold["kb"] / ".claim-review.yaml").read_text("utf-8"))
    domains = set(rubric["schema"]["domains"])
    for entry in claims:
        text = (GOLD_DIR / entry["path"]).read_text(encoding="utf-8")
        parts = text.split("\n---\n", 1)
        try:
            front = yaml.safe_load(parts[0].removeprefix("---\n")) if len(parts) == 2 else None
        except yaml.YAMLError:
            front = None
        if not isinstance(front, dict):
            assert entry["checks"]["schema"] == "fail", entry["path"]
            continue
        assert front.get("domain") in domains, entry["path"]


def test_the_set_is_large_and_balanced(claims):
    assert len(claims) >= 60
    fails = Counter(c for entry in claims for c in CHECKS if entry["checks"][c] == "fail")
    for check in CHECKS:
        assert fails[check] >= 10, f"{check} fails in only {fails[check]} claims"
    clean = [e for e in claims if all(e["checks"][c] == "pass" for c in CHECKS)]
    assert len(clean) >= 12
    single = [e for e in claims if sum(e["checks"][c] == "fail" for c in CHECKS) == 1]
    assert len(single) > len(claims) - len(clean) - len(single), "mostly one failing check"
