"""The benchmark's generator: deterministic, with its planted defects, and reviewable."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rapidfuzz import fuzz

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # benchmarks/ is not an installed package

from benchmarks.generate import TODAY, generate, tree_digest  # noqa: E402
from reviewer.claim import normalize_name  # noqa: E402

CLAIMS = 200
LINK = re.compile(r"\[\[([^\]|#]+)")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench") / "kb"
    return root, generate(root, CLAIMS, seed=3)


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          check=True).stdout


def test_same_seed_same_tree_other_seed_other_tree(base, tmp_path):
    root, manifest = base
    again = generate(tmp_path / "kb", CLAIMS, seed=3)
    other = generate(tmp_path / "other", CLAIMS, seed=4, git=False)
    assert tree_digest(tmp_path / "kb") == tree_digest(root)
    assert again["refs"] == manifest["refs"]  # the commits too: fixed times, same trees
    assert tree_digest(tmp_path / "other") != tree_digest(root)
    assert again["change"] == manifest["change"]
    assert (tmp_path / "kb.change").is_dir() and other["refs"] == {}


def test_claims_notes_and_branches(base):
    root, manifest = base
    claims = [p for top in ("domains", "core", "foundations") for p in (root / top).rglob("*.md")
              if p.name != "_map.md"]
    assert len(claims) == CLAIMS
    assert manifest["notes"] > CLAIMS  # maps, sources, entities, agent notes
    assert (root / "maps" / "overview.md").is_file() and (root / "inbox").is_dir()
    for name in ("change-50", "change-25"):
        changed = git(root, "diff", "--name-only", "main", name).splitlines()
        assert len(changed) == int(name.split("-")[1])
    assert set(git(root, "diff", "--name-only", "main", "change-25").splitlines()) < \
        set(git(root, "diff", "--name-only", "main", "change-50").splitlines())
    assert 0 < len(manifest["change"]["new"]) < 50


def test_near_duplicates_are_present_at_the_planned_rate(base):
    root, manifest = base
    dups = manifest["near_duplicates"]
    assert len(dups) == round(CLAIMS * 0.03)
    for d in dups:
        a, b = (Path(d[k]).stem for k in ("path", "of"))
        assert (root / d["path"]).is_file() and (root / d["of"]).is_file()
        assert a != b and fuzz.token_sort_ratio(normalize_name(a), normalize_name(b)) >= 85


def test_broken_links_are_present_at_the_planned_rate(base):
    root, manifest = base
    names = {p.stem.lower() for p in root.rglob("*.md")}
    total = broken = 0
    for top in ("domains", "core", "foundations"):
        for note in (root / top).rglob("*.md"):
            if note.name == "_map.md":
                continue
            for target in LINK.findall(note.read_text(encoding="utf-8")):
                total += 1
                broken += target.strip().lower() not in names
    assert total == manifest["links"]["total"]
    assert broken == manifest["links"]["broken"]
    assert 0.02 <= broken / total <= 0.07


def test_claim_review_finds_the_planted_defects(base):
    root, manifest = base
    done = subprocess.run(
        [sys.executable, "-m", "reviewer", "check", "--kb", str(root), "--no-llm",
         "--format", "json"], capture_output=True, text=True, check=False,
        env={**{k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"},
             "CLAIM_REVIEW_TODAY": TODAY})
    assert done.returncode == 1, done.stderr[-2000:]
    report = json.loads(done.stdout)
    summary = report["summary"]
    assert summary["reviewed"] - summary.get("other_types", 0) == CLAIMS
    findings = [(f["path"], x["rule"]) for f in report["files"] for x in f["findings"]]
    assert not [r for _, r in findings if r.endswith("internal-error")]
    flagged = {p for p, r in findings if r.startswith("duplication.")}
    pairs = [d for d in manifest["near_duplicates"] if {d["path"], d["of"]} & flagged]
    assert len(pairs) >= len(manifest["near_duplicates"]) * 0.8
    broken = sum(r == "wiki_links.broken-link" for _, r in findings)
    assert broken >= manifest["links"]["broken"] * 0.8

