"""`claim-review diff` on a real git repository the test creates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import git, write_tree
from conftest import own_claim as claim

from reviewer.cli import main

T = "domains/urban-transit/"
OLD = "Bus lanes cut trip times on congested arterials"
KEEP = "Signal priority shortens bus trips on long-cycle corridors"
GONE = "Night buses reduce late-evening drink driving in dense districts"
LINKER = "Frequent networks outperform coverage networks for ridership growth"


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    write_tree(root, {
        ".claim-review.yaml": "schema:\n  domains: [urban-transit]\n",
        f"{T}{OLD}.md": claim(OLD, body=f"See [[{KEEP}]] from 2024.\n"),
        f"{T}{KEEP}.md": claim(KEEP, body=f"See [[{OLD}]] from 2024.\n"),
        f"{T}{GONE}.md": claim(GONE, body=f"See [[{KEEP}]] from 2024.\n"),
        f"{T}{LINKER}.md": claim(LINKER, body=f"Unlike [[{GONE}]], data from 2024.\n"),
        "notes/agent scratchpad.md": "---\ntype: musing\n---\nthoughts\n",
    })
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "feature")
    return root


def run_diff(repo: Path, *extra: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["diff", "--repo", str(repo), "--format", "json", *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout) if result.stdout.startswith("{") else {}


def commit_all(repo: Path, message: str = "change") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


def findings(report: dict) -> list[tuple[str, int, str]]:
    """Errors and warnings as (path, line, rule); info notes are not what these tests pin."""
    return [(f["path"], x["line"], x["rule"])
            for f in report["files"] for x in f["findings"] if x["severity"] != "info"]


def test_added_modified_renamed_deleted(repo):
    new = "Tram priority lanes lift tram speeds where cars are banned"
    write_tree(repo, {f"{T}{new}.md": claim(new, body=f"See [[{OLD}]], 2024 data.\n")})
    (repo / T / f"{KEEP}.md").write_text(
        claim(KEEP, body=f"See [[{OLD}]] and [[{new}]] from 2025.\n"), encoding="utf-8")
    git(repo, "mv", f"{T}{OLD}.md", f"{T}Bus lanes shorten trips.md")
    git(repo, "rm", "-q", f"{T}{GONE}.md")
    write_tree(repo, {"notes/agent scratchpad.md": "---\ntype: musing\n---\nmore thoughts\n"})
    commit_all(repo)
    code, report = run_diff(repo)
    assert code == 1
    paths = {f["path"] for f in report["files"]}
    assert {f"{T}{new}.md", f"{T}{KEEP}.md", f"{T}Bus lanes shorten trips.md"} <= paths
    assert report["summary"]["reviewed"] == 3
    assert report["summary"]["deleted"] == 1
    assert report["summary"]["skipped"] == 1
    got = findings(report)
    # the link to the claim added in the same change resolves
    assert not [g for g in got if g[0] == f"{T}{KEEP}.md" and g[2] == "wiki_links.broken-link"
                and new in g[0]]
    # the rename broke links to the old name in the modified file and in the added one
    broken = {(p, r) for p, _line, r in got if r == "wiki_links.broken-link"}
    assert (f"{T}{KEEP}.md", "wiki_links.broken-link") in broken
    assert (f"{T}{new}.md", "wiki_links.broken-link") in broken
    # the deletion broke a link in a file the change did not touch
    assert [g for g in got if g[0] == f"{T}{LINKER}.md"] == [
        (f"{T}{LINKER}.md", 13, "wiki_links.link-broken-by-change")]


def test_link_to_claim_added_in_same_change_resolves(repo):
    a, b = "Claim A says ridership rises with frequency", "Claim B says dwell times fall"
    write_tree(repo, {f"{T}{a}.md": claim(a, body=f"See [[{b}]], 2024.\n"),
                      f"{T}{b}.md": claim(b, body=f"See [[{a}]], 2024.\n")})
    commit_all(repo)
    code, report = run_diff(repo)
    assert [g for g in findings(report) if g[2].startswith("wiki_links")] == []
    assert code == 0


def test_duplicate_of_a_base_claim(repo):
    dup = "bus-lanes cut trip times on congested arterials"
    write_tree(repo, {f"{T}{dup}.md": claim(dup, body=f"See [[{KEEP}]], 2024.\n")})
    commit_all(repo)
    code, report = run_diff(repo)
    assert code == 1
    dups = [x for f in report["files"] for x in f["findings"]
            if x["rule"] == "duplication.duplicate"]
    assert [d["duplicate_of"] for d in dups] == [f"{T}{OLD}.md"]


def test_modified_claim_is_not_its_own_duplicate(repo):
    (repo / T / f"{OLD}.md").write_text(claim(OLD, body=f"See [[{KEEP}]], 2026 data.\n"),
                                        encoding="utf-8")
    commit_all(repo)
    code, report = run_diff(repo)
    assert findings(report) == [] and code == 0


def test_contents_come_from_git_objects_not_the_working_tree(repo):
    name = "Ferry links shorten cross-harbour commutes by half"
    write_tree(repo, {f"{T}{name}.md": claim(name, body=f"See [[{KEEP}]], 2024.\n")})
    commit_all(repo)
    (repo / T / f"{name}.md").write_text("garbage, no frontmatter", encoding="utf-8")
    code, report = run_diff(repo)
    assert code == 0 and findings(report) == []
    warned = CliRunner().invoke(main, ["diff", "--repo", str(repo)]).stderr
    assert "warning: 1 note(s) have uncommitted changes" in warned and "--worktree" in warned
    named = CliRunner().invoke(main, ["diff", "--repo", str(repo), "--head", "feature"])
    assert "uncommitted" in named.stderr  # feature is the checked-out commit
    other = CliRunner().invoke(main, ["diff", "--repo", str(repo), "--head", "main"])
    assert "uncommitted" not in other.stderr  # the working tree is not a draft of main
    (repo / T / f"{name}.md").write_text(claim(name, body=f"See [[{KEEP}]], 2024.\n",
                                               source="unknown"), encoding="utf-8")
    code, report = run_diff(repo, "--worktree")  # the working tree, as it is on disk
    assert code == 1
    assert [r for _p, _l, r in findings(report)] == ["source_quality.placeholder-source"]


def test_base_and_head_refs(repo):
    name = "Ferry links shorten cross-harbour commutes by half"
    write_tree(repo, {f"{T}{name}.md": claim(name, f"See [[{KEEP}]], 2024.\n", source="unknown")})
    commit_all(repo)
    git(repo, "checkout", "-q", "main")
    code, report = run_diff(repo, "--head", "feature")
    assert code == 1
    assert [r for _p, _l, r in findings(report)] == ["source_quality.placeholder-source"]
    code, report = run_diff(repo, "--base", "main", "--head", "main")
    assert code == 0 and report["summary"]["reviewed"] == 0


def test_unknown_ref_is_a_usage_error(repo):
    result = CliRunner().invoke(main, ["diff", "--repo", str(repo), "--base", "nope"])
    assert result.exit_code == 2
    assert "error" in result.output and "Traceback" not in result.output


def test_default_base_falls_back_to_master(repo):
    git(repo, "branch", "-m", "main", "master")
    name = "Ferry links shorten cross-harbour commutes by half"
    write_tree(repo, {f"{T}{name}.md": claim(name, f"See [[{KEEP}]], 2024.\n", source="unknown")})
    commit_all(repo)
    code, report = run_diff(repo)
    assert code == 1 and report["summary"]["reviewed"] == 1


def test_missing_folder_and_plain_folder_are_usage_errors(tmp_path):
    for folder in (tmp_path / "nowhere", tmp_path):
        result = CliRunner().invoke(main, ["diff", "--repo", str(folder)])
        assert result.exit_code == 2
        assert result.output.startswith("claim-review: error: ")
        assert "no such folder" in result.output or "not a git repository" in result.output


def test_a_symlinked_note_is_a_finding_and_never_followed(repo, tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text(claim("Outside note that must never be read", "x\n"), encoding="utf-8")
    (repo / T / "Linked claim.md").symlink_to(secret)
    commit_all(repo)
    code, report = run_diff(repo)
    assert code == 1
    assert findings(report) == [(f"{T}Linked claim.md", 1, "schema.not-a-regular-file")]


def test_unrelated_histories_are_a_clear_usage_error(repo):
    git(repo, "checkout", "-q", "--orphan", "island")
    write_tree(repo, {"x.md": "island\n"})
    commit_all(repo, "unrelated")
    result = CliRunner().invoke(main, ["diff", "--repo", str(repo), "--base", "main"])
    assert result.exit_code == 2
    assert "share no history" in result.output and "fetch-depth: 0" in result.output
