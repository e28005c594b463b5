"""Shared helpers: build small knowledge bases in tmp_path and review files against them."""

from __future__ import annotations

import os
import subprocess
from datetime import date
from pathlib import Path

import pytest
import yaml
from fakes.anthropic_server import FakeAnthropic

from reviewer.change import from_paths
from reviewer.pipeline import build_review
from reviewer.review import Review
from reviewer.rubric import load_rubric

TODAY = "2026-06-01"
GOOD_BODY = """Since [[{link}]], the effect compounds. A 2024 field trial of 1,200 sites measured
a 14% reduction (Alvarez et al., 2024).

## Challenges
A smaller 2023 survey found no effect in rural settings.
"""


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch, tmp_path_factory):
    """Dates are judged against a fixed day so tests never rot; the persistent index lives
    in a folder of the test run, never in the user's cache."""
    monkeypatch.setenv("CLAIM_REVIEW_TODAY", TODAY)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("CLAIM_REVIEW_INDEX_DIR", str(tmp_path_factory.getbasetemp() / "index"))
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)  # tests that need it set it


def claim_text(title: str, body: str | None = None, **fields) -> str:
    """A valid claim; override fields with keyword arguments, drop one with `field=None`."""
    front = {
        "type": "claim",
        "domain": "urban-transit",
        "description": "Measured across 40 corridors, the gain comes from fewer signal stops "
                       "rather than higher top speeds",
        "confidence": "likely",
        "source": "Alvarez and Chen, Corridor Study, 2024",
        "created": date(2026, 3, 1),
    }
    for key, value in fields.items():
        if value is None:
            front.pop(key, None)
        else:
            front[key] = value
    if body is None:
        body = GOOD_BODY.format(link="Existing claim about buses")
    head = yaml.safe_dump(front, sort_keys=False, allow_unicode=True)
    return f"---\n{head}---\n\n# {title}\n\n{body}"


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


BASE_FILES = {
    "domains/urban-transit/Existing claim about buses.md": claim_text(
        "Existing claim about buses", body="A 2023 audit of 30 routes.\n"),
    "domains/urban-transit/Signal priority shortens bus trips on long-cycle corridors.md":
        claim_text("Signal priority shortens bus trips on long-cycle corridors"),
}


@pytest.fixture
def kb(tmp_path) -> Path:
    """A tiny knowledge base with two claims and a rubric that lists its domains."""
    root = write_tree(tmp_path / "kb", dict(BASE_FILES))
    (root / ".claim-review.yaml").write_text(
        "schema:\n  domains: [urban-transit, soil-science]\n", encoding="utf-8")
    return root


def run_check(kb_root: Path, files: list[Path] | None = None,
              rubric: Path | None = None) -> Review:
    """The deterministic review, through the same pipeline as every command."""
    loaded = load_rubric(rubric, kb_root)
    change = from_paths(kb_root, list(files or []), loaded)
    return build_review(change, no_llm=True)


def add_claim(kb_root: Path, rel: str, text: str | bytes) -> Path:
    write_tree(kb_root, {rel: text})
    return kb_root / rel


def rules(result: Review, check: str | None = None) -> list[tuple[int, str]]:
    """(line, rule) pairs, the way the linters we learn from assert findings."""
    return [(f.line, f.rule) for f in result.findings if check is None or f.check == check]


def rule_ids(result: Review, check: str | None = None) -> set[str]:
    return {rule for _line, rule in rules(result, check)}


@pytest.fixture
def chdir(tmp_path):
    old = os.getcwd()
    os.chdir(tmp_path)
    yield tmp_path
    os.chdir(old)


def own_claim(title: str, body: str | None = None, **fields) -> str:
    """`claim_text` with a description of its own, so claims never look alike by description."""
    fields.setdefault("description", f"Evidence for '{title.lower()}' comes from 2024 audits "
                                     "of routes, timetables and rider counts")
    return claim_text(title, body=body, **fields)


def the_finding(result: Review, rule: str):
    """The one finding of `rule`; fails, listing what was found, unless there is exactly one."""
    found = [f for f in result.findings if f.rule == rule]
    assert len(found) == 1, rules(result)
    return found[0]


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` with a fixed identity; the output, stripped."""
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@e",
                           *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def messages_server():
    """A fake Anthropic Messages server on 127.0.0.1, stopped after the test."""
    server = FakeAnthropic().start()
    yield server
    server.stop()


def use_fake_judge(monkeypatch, server, cache_dir: Path) -> None:
    """Point the real anthropic client at `server`, with a key and a fresh judge cache."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    monkeypatch.setenv("CLAIM_REVIEW_CACHE_DIR", str(cache_dir))
    monkeypatch.delenv("CLAIM_REVIEW_MODEL", raising=False)
