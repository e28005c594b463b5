"""What the change introduces: new findings block, findings already there do not.

Every test builds a real git repository: a base on `main` whose old claim already has
broken links, and a `feature` branch that changes it; `claim-review diff` compares each
changed note with its base version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import git, write_tree
from conftest import own_claim as claim

from reviewer.cli import main
from reviewer.findings import Finding

T = "domains/urban-transit/"
OLD = "Bus lanes cut trip times on congested arterials"
KEEP = "Signal priority shortens bus trips on long-cycle corridors"
OLD_BODY = (f"Since [[{KEEP}]], a 2024 audit of 30 routes found a 12% gain.\n\n"
            "It builds on [[Missing premise one]] and [[Missing premise two]].\n")


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    write_tree(root, {
        ".claim-review.yaml": "schema:\n  domains: [urban-transit]\n",
        f"{T}{OLD}.md": claim(OLD, body=OLD_BODY),
        f"{T}{KEEP}.md": claim(KEEP, body=f"See [[{OLD}]] from 2024.\n"),
    })
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "base")
    git(root, "checkout", "-qb", "feature")
    return root


def commit_all(repo: Path, message: str = "change") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


def edit(repo: Path, name: str, old: str, new: str) -> None:
    path = repo / T / f"{name}.md"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def run(repo: Path, *args: str, command: str = "diff") -> tuple[int, dict]:
    where = ["--repo", str(repo)] if command == "diff" else ["--kb", str(repo)]
    result = CliRunner().invoke(main, [command, *where, "--no-llm", "--format", "json", *args])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def of(report: dict, status: str) -> list[tuple[int, str]]:
    return [(f["line"], f["rule"]) for file in report["files"] for f in file["findings"]
            if f["status"] == status and f["severity"] != "info"]


def test_a_one_word_edit_of_an_old_claim_with_broken_links_is_approved(repo):
    edit(repo, OLD, "found a 12% gain", "measured a 12% gain")
    commit_all(repo)
    code, report = run(repo)
    assert (code, report["verdict"]) == (0, "APPROVE")
    assert of(report, "existing") == [(15, "wiki_links.broken-link")] * 2
    assert of(report, "new") == []
    assert report["summary"]["existing"] == 3  # and the info note on counter-evidence


def test_a_new_claim_with_a_broken_link_requests_changes_naming_only_it(repo):
    name = "Off-board fare payment shortens bus dwell times at busy stops"
    write_tree(repo, {f"{T}{name}.md": claim(name, body="After [[No such note]], a 2024 "
                                                        "trial of 12 stops cut dwell by 20%.\n")})
    commit_all(repo)
    code, report = run(repo)
    assert code == 1
    assert [(file["path"], f["target"]) for file in report["files"]
            for f in file["findings"] if f["status"] == "new" and f["severity"] == "error"] == \
        [(f"{T}{name}.md", "No such note")]


def test_a_second_broken_link_in_an_old_claim_is_one_new_finding(repo):
    """Multiplicity: two copies of one broken link at head against one at base."""
    edit(repo, OLD, "and [[Missing premise two]].", "and [[Missing premise two]].\n\n"
                    "See [[Missing premise one]] again, and [[Another gap]].")
    commit_all(repo)
    code, report = run(repo)
    assert code == 1
    new = [f["target"] for file in report["files"] for f in file["findings"]
           if f["status"] == "new" and f["rule"] == "wiki_links.broken-link"]
    assert sorted(new) == ["Another gap", "Missing premise one"]
    assert len(of(report, "existing")) == 2


def test_fixing_an_old_broken_link_is_listed_as_fixed(repo):
    edit(repo, OLD, "[[Missing premise two]]", f"[[{KEEP}]]")
    commit_all(repo)
    code, report = run(repo)
    assert code == 0
    [file] = [f for f in report["files"] if f["path"] == f"{T}{OLD}.md"]
    assert [(f["rule"], f["target"]) for f in file["fixed"]] == \
        [("wiki_links.broken-link", "Missing premise two")]
    assert report["summary"]["fixed"] == 1


def test_a_change_cannot_suppress_its_own_new_broken_link(repo):
    edit(repo, OLD, "and [[Missing premise two]].", "and [[Missing premise two]].\n\n"
                    "<!-- claim-review-disable-next-line broken-link -- stub -->\n"
                    "More in [[Brand new gap]].")
    commit_all(repo)
    code, report = run(repo)
    assert code == 1
    new = of(report, "new")
    assert (18, "wiki_links.broken-link") in new
    added = [f for file in report["files"] for f in file["findings"]
             if f["rule"] == "schema.suppression-added"]
    assert [(f["line"], f["reason"], f["severity"]) for f in added] == [(17, "stub", "info")]


def test_a_merged_suppression_silences_and_an_unused_one_is_reported(repo):
    edit(repo, OLD, "It builds on", "<!-- claim-review-disable-next-line wiki_links.broken-link "
                                     "-- premises being written -->\nIt builds on")
    edit(repo, OLD, "Since [[", "<!-- claim-review-disable ambiguous-link -- none here -->\n"
                                "Since [[")
    commit_all(repo, "suppress")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--ff-only", "feature")
    git(repo, "checkout", "-qb", "next")
    edit(repo, OLD, "a 12% gain", "a 13% gain")
    commit_all(repo)
    code, report = run(repo)
    [file] = report["files"]
    assert code == 0 and of(report, "new") == []
    assert [f["rule"] for f in file["suppressed"]] == ["wiki_links.broken-link"] * 2
    assert [(f["rule"], f["status"]) for f in file["findings"]
            if f["rule"].startswith("schema.")] == [("schema.unused-suppression", "existing")]


def test_a_suppression_without_reason_or_with_an_unknown_rule_is_ignored(tmp_path):
    root = tmp_path / "kb"
    write_tree(root, {f"{T}{OLD}.md": claim(OLD, body=(
        "<!-- claim-review-disable-next-line broken-link -->\n[[Nowhere one]], 2024.\n"
        "<!-- claim-review-disable-next-line brokn-link -- typo -->\n[[Nowhere two]].\n"
        "```\n<!-- claim-review-disable broken-link -- an example in a code block -->\n```\n"))})
    code, report = run(root, command="check")
    assert code == 1
    assert [(f["line"], f["rule"]) for f in report["files"][0]["findings"]
            if f["severity"] != "info"] == [
        (13, "schema.invalid-suppression"), (14, "wiki_links.broken-link"),
        (15, "schema.invalid-suppression"), (16, "wiki_links.broken-link")]


def test_a_note_that_cannot_be_read_blocks_even_if_its_base_version_could_not_be_either(repo):
    write_tree(repo, {f"{T}Broken note.md": "no frontmatter at all\n"})
    (repo / ".claim-review.yaml").write_text(
        "schema:\n  domains: [urban-transit]\nclaims:\n  paths: ['domains/**']\n")
    commit_all(repo, "base again")
    git(repo, "branch", "-f", "main")
    edit(repo, OLD, "a 12% gain", "a 13% gain")
    (repo / T / "Broken note.md").write_text("still no frontmatter\n", encoding="utf-8")
    commit_all(repo)
    code, report = run(repo)
    assert code == 1
    assert (1, "schema.no-frontmatter") in of(report, "new")


def test_renamed_and_shifted_findings_keep_their_fingerprint(repo):
    git(repo, "mv", f"{T}{OLD}.md", f"{T}Bus lanes cut trip times on busy arterials.md")
    path = repo / T / "Bus lanes cut trip times on busy arterials.md"
    text = path.read_text(encoding="utf-8").replace(
        f"# {OLD}", "# Bus lanes cut trip times on busy arterials\n\nA new first paragraph.\n")
    path.write_text(text.replace("[[Missing premise one]] and [[Missing premise two]]",
                                 "[[Missing premise two]] and [[Missing premise one]]"))
    commit_all(repo)
    code, report = run(repo)
    assert of(report, "new") == [(13, "wiki_links.link-broken-by-change")]  # KEEP's link
    assert sorted(line for line, _r in of(report, "existing")) == [18, 18]
    edit(repo, KEEP, f"[[{OLD}]]", "[[Bus lanes cut trip times on busy arterials]]")
    commit_all(repo)
    code, report = run(repo)
    assert (code, of(report, "new")) == (0, [])


def test_fingerprints_ignore_line_and_message_but_not_subject():
    def link(line: int, target: str, message: str = "m") -> Finding:
        return Finding("wiki_links", "wiki_links.broken-link", "error", "a.md", line, message,
                       extras={"target": target})

    assert link(3, "X").fingerprint() == link(90, " x ", "other words").fingerprint()
    assert link(3, "X").fingerprint() != link(3, "Y").fingerprint()
    field = Finding("schema", "schema.invalid-domain", "error", "a.md", 2, "m",
                    extras={"field": "domain", "value": "transit"})
    assert "field=domain=transit" in field.fingerprint()


def test_baseline_then_check_has_no_new_findings_and_reports_a_stale_entry(tmp_path):
    root = tmp_path / "kb"
    write_tree(root, {f"{T}{OLD}.md": claim(OLD, body=OLD_BODY),
                      f"{T}{KEEP}.md": claim(KEEP, body=f"See [[{OLD}]] from 2024.\n")})
    made = CliRunner().invoke(main, ["baseline", "--kb", str(root)])
    assert made.exit_code == 0, made.output
    saved = (root / ".claim-review-baseline.json").read_text(encoding="utf-8")
    assert '"claim_review_baseline": 1' in saved
    assert [line.count('"rule": "wiki_links.broken-link"') for line in saved.splitlines()
            if "broken-link" in line] == [1, 1]  # one entry a line
    code, report = run(root, command="check")
    assert (code, of(report, "new"), report["stale_baseline"]) == (0, [], [])
    edit(root, OLD, " and [[Missing premise two]]", "")
    code, report = run(root, command="check")
    assert code == 0
    assert [(e["rule"], e["subject"]) for e in report["stale_baseline"]] == \
        [("wiki_links.broken-link", "target=missing premise two")]
    pruned = CliRunner().invoke(main, ["baseline", "--kb", str(root), "--prune"])
    assert "dropped 1 stale entries" in pruned.stderr
    assert run(root, command="check")[1]["stale_baseline"] == []
    assert run(root, "--no-baseline", command="check")[0] == 1


def test_diff_reads_the_baseline_from_the_base_commit_only(repo):
    """A branch cannot accept its own findings by adding them to the baseline."""
    name = "Off-board fare payment shortens bus dwell times at busy stops"
    write_tree(repo, {f"{T}{name}.md": claim(name, body="After [[No such note]], a 2024 "
                                                        "trial of 12 stops cut dwell by 20%.\n")})
    assert CliRunner().invoke(main, ["baseline", "--kb", str(repo)]).exit_code == 0
    commit_all(repo)
    assert run(repo)[0] == 1


def test_diff_uses_the_base_rubric_and_says_so_when_the_branch_changes_it(repo):
    (repo / ".claim-review.yaml").write_text(
        "schema:\n  domains: [urban-transit]\nchecks:\n  wiki_links:\n    enabled: false\n")
    name = "Off-board fare payment shortens bus dwell times at busy stops"
    write_tree(repo, {f"{T}{name}.md": claim(name, body="After [[No such note]], a 2024 "
                                                        "trial of 12 stops cut dwell by 20%.\n")})
    commit_all(repo)
    code, report = run(repo)
    assert code == 1 and any("base commit's rubric" in note for note in report["notes"])
    code, report = run(repo, "--rubric-from", "head")
    assert any("--rubric-from head" in note for note in report["notes"])
    assert of(report, "new") == [(1, "schema.unreviewed-path")]  # the rubric change itself
    assert report["files"][0]["path"] == ".claim-review.yaml"


def test_check_from_a_subfolder_finds_the_root_and_reviews_that_folder(repo, monkeypatch):
    write_tree(repo, {"domains/health/Clinic hours shape vaccination uptake in rural areas.md":
                      claim("Clinic hours shape vaccination uptake in rural areas",
                            domain="urban-transit", body="See [[Nowhere]], 2024.\n")})
    everything = run(repo, command="check")[1]
    monkeypatch.chdir(repo / "domains" / "health")
    result = CliRunner().invoke(main, ["check", "--no-llm", "--format", "json"])
    here = json.loads(result.stdout)
    assert f"knowledge base: {repo.resolve()}" in result.stderr
    assert [f["path"] for f in here["files"]] == ["domains/health/Clinic hours shape "
                                                  "vaccination uptake in rural areas.md"]
    assert here["files"] == [f for f in everything["files"] if f["path"].startswith(
        "domains/health/")]


def test_a_knowledge_base_without_notes_is_a_usage_error(tmp_path):
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(main, ["check", "--kb", str(tmp_path / "empty"), "--no-llm"])
    assert result.exit_code == 2 and "no Markdown note" in result.stderr


def test_pr_lists_existing_findings_collapsed_and_never_comments_on_them(tmp_path):
    from test_github import isolate, kb_repo, open_pull, run_pr, start_fake

    mp = pytest.MonkeyPatch()
    isolate(mp)
    fake = start_fake()
    try:
        old_text = claim(OLD, body=OLD_BODY)
        repo, base, head = kb_repo(tmp_path / "kb", {  # the edited line holds both links
            f"{T}{OLD}.md": old_text.replace("It builds on", "It rests on")},
            base_extra={f"{T}{OLD}.md": old_text})
        open_pull(fake, repo, base, head)
        result = run_pr(fake, repo)
        assert result.exit_code == 0, result.output
        [review] = fake.pulls[1].reviews
        assert review["state"] == "APPROVED" and fake.pulls[1].review_comments == []
        body = review["body"]
        assert "<summary>Already there before this change: 3; not blocking</summary>" in body
        section = body.split("### 4. Wiki links", 1)[1].split("###", 1)[0]
        assert "broken-link" not in section  # the numbered sections hold new findings only
    finally:
        fake.stop()
        mp.undo()


@pytest.mark.parametrize("how, why", [
    ("confidence", "its confidence falls from likely to speculative"),
    ("title", "its title changes from"),
    ("delete", "this change deletes it"),
])
def test_what_relies_on_a_weakened_claim_is_listed_to_re_examine(repo, how, why):
    write_tree(repo, {"beliefs/Transit priority pays.md":
                      "---\ntype: belief\ndepends_on: [\"" + OLD + "\"]\n---\nA belief.\n"})
    commit_all(repo, "a belief")
    git(repo, "branch", "-f", "main")
    if how == "confidence":
        edit(repo, OLD, "confidence: likely", "confidence: speculative")
    elif how == "title":
        edit(repo, OLD, f"# {OLD}", "# Bus lanes shorten trips on congested arterials")
    else:
        git(repo, "rm", "-q", f"{T}{OLD}.md")
    commit_all(repo)
    code, report = run(repo)
    [impact] = report["impact"]
    assert impact["path"] == f"{T}{OLD}.md" and impact["why"].startswith(why)
    # KEEP links to it; the belief lists it in depends_on
    assert impact["dependents"] == ["beliefs/Transit priority pays.md", f"{T}{KEEP}.md"]


def test_an_unweakened_change_lists_nothing_to_re_examine(repo):
    edit(repo, OLD, "confidence: likely", "confidence: proven")
    commit_all(repo)
    assert run(repo)[1]["impact"] == []


def test_pr_shows_what_a_rubric_change_would_do_to_the_base(tmp_path):
    from test_github import RUBRIC, isolate, kb_repo, open_pull, run_pr, start_fake

    mp = pytest.MonkeyPatch()
    isolate(mp)
    fake = start_fake()
    try:
        old_text = claim(OLD, body=OLD_BODY)
        repo, base, head = kb_repo(tmp_path / "kb", {
            ".claim-review.yaml": RUBRIC + "checks:\n  wiki_links:\n    severity: "
                                           "{broken-link: warning}\n"},
            base_extra={f"{T}{OLD}.md": old_text})
        open_pull(fake, repo, base, head)
        result = run_pr(fake, repo)
        assert result.exit_code == 1  # the rubric change itself is a person's to review
        body = fake.pulls[1].reviews[0]["body"]
        assert "What this change to the rubric does to the whole knowledge base" in body
        table = body.split("What this change to the rubric does", 1)[1]
        assert "wiki\\_links.broken-link" in table or "wiki_links.broken-link" in table
    finally:
        fake.stop()
        mp.undo()
