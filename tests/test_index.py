"""The persistent index: warm runs parse only what changed; nothing stale is ever trusted."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import claim_text, write_tree

import reviewer.index
import reviewer.kb
from reviewer.change import from_paths
from reviewer.index import open_index
from reviewer.kb import KnowledgeBase
from reviewer.rubric import load_rubric
from reviewer.sources import DirSource

T = "domains/x/"


@pytest.fixture
def parses(monkeypatch):
    """Which paths the knowledge base parsed into records."""
    seen: list[str] = []
    real = reviewer.kb.parse_claim

    def counting(path, data, max_bytes):
        seen.append(path)
        return real(path, data, max_bytes)

    monkeypatch.setattr(reviewer.kb, "parse_claim", counting)
    return seen


def base(root: Path, n: int = 5) -> Path:
    files = {f"{T}Claim {i} raises outcome {i} in district {i}.md":
             claim_text(f"Claim {i} raises outcome {i} in district {i}", body="A 2024 audit.\n",
                        domain="x") for i in range(n)}
    return write_tree(root, files)


def settle(root: Path) -> None:
    """Age the files past the racy window, so their size and time can be trusted."""
    old = time.time() - 60
    for path in root.rglob("*.md"):
        os.utime(path, (old, old))


def records(root: Path, index_dir: Path) -> dict[str, str]:
    """Each note's title as a run with the index sees it; the run ends, closing the index."""
    rubric = load_rubric(None)
    index = open_index(index_dir, rubric.max_file_bytes)
    kb = KnowledgeBase(DirSource(root), rubric, index)
    titles = {p: kb.info(p).title for p in kb.notes}
    index.close()
    return titles


def test_a_warm_run_parses_nothing_it_already_knows(tmp_path, parses):
    root = base(tmp_path / "kb")
    settle(root)
    records(root, tmp_path / "index")
    assert len(parses) == 5
    parses.clear()
    assert len(records(root, tmp_path / "index")) == 5 and parses == []


def test_edits_renames_and_deletions_are_never_served_stale(tmp_path, parses):
    root = base(tmp_path / "kb")
    settle(root)
    records(root, tmp_path / "index")
    first = root / T / "Claim 0 raises outcome 0 in district 0.md"
    first.write_text(claim_text("An edited title of the same length, more or less here",
                                domain="x"), encoding="utf-8")
    (root / T / "Claim 1 raises outcome 1 in district 1.md").rename(root / T / "Moved.md")
    (root / T / "Claim 2 raises outcome 2 in district 2.md").unlink()
    parses.clear()
    seen = records(root, tmp_path / "index")
    assert seen[f"{T}Claim 0 raises outcome 0 in district 0.md"] == \
        "An edited title of the same length, more or less here"
    assert seen[f"{T}Moved.md"] == "Claim 1 raises outcome 1 in district 1"
    assert f"{T}Claim 2 raises outcome 2 in district 2.md" not in seen
    assert sorted(parses) == [f"{T}Claim 0 raises outcome 0 in district 0.md"]  # the moved
    # note's bytes were known: read and hashed again, not parsed


def test_a_change_that_keeps_size_and_time_is_caught_while_the_time_is_recent(tmp_path):
    root = base(tmp_path / "kb", 1)
    path = next(root.rglob("*.md"))
    records(root, tmp_path / "index")  # written just now: racy, so not trusted by stat
    stat = path.stat()
    text = path.read_text(encoding="utf-8").replace("Claim 0 raises", "Claim 9 raises")
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert records(root, tmp_path / "index")[str(path.relative_to(root))].startswith("Claim 9")


def test_a_corrupt_index_is_rebuilt(tmp_path, parses):
    root = base(tmp_path / "kb")
    settle(root)
    records(root, tmp_path / "index")
    index_file = next((tmp_path / "index").glob("index-v*.sqlite"))
    for extra in index_file.parent.glob("index-v*.sqlite-*"):
        extra.unlink()
    index_file.write_bytes(b"this is not a database" * 100)
    parses.clear()
    assert len(records(root, tmp_path / "index")) == 5 and len(parses) == 5
    parses.clear()
    assert len(records(root, tmp_path / "index")) == 5 and parses == []  # and usable again


def test_an_index_of_another_version_is_rebuilt(tmp_path, parses, monkeypatch):
    root = base(tmp_path / "kb")
    settle(root)
    records(root, tmp_path / "index")
    monkeypatch.setattr(reviewer.index, "__version__", "99.0.0")
    parses.clear()
    records(root, tmp_path / "index")
    assert len(parses) == 5


def test_git_trees_are_keyed_by_blob_so_two_commits_share_records(tmp_path, parses):
    from conftest import git

    from reviewer.sources import GitTreeSource

    root = base(tmp_path / "kb")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "one")
    (root / T / "New.md").write_text(claim_text("New claim here now", domain="x"))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "two")
    rubric = load_rubric(None)
    index = open_index(tmp_path / "index", rubric.max_file_bytes)
    KnowledgeBase(GitTreeSource(root, "HEAD~1"), rubric, index).claim_paths()
    parses.clear()
    KnowledgeBase(GitTreeSource(root, "HEAD"), rubric, index).claim_paths()
    assert parses == [f"{T}New.md"]


def test_two_runs_at_once_share_the_index_without_harm(tmp_path):
    root = base(tmp_path / "kb", 40)
    settle(root)
    env = {**os.environ, "CLAIM_REVIEW_INDEX_DIR": str(tmp_path / "index")}
    command = [sys.executable, "-m", "reviewer", "check", "--kb", str(root), "--no-llm",
               "--format", "json"]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(3)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [o[1] for o in outputs] == [b"", b"", b""]  # no error, no traceback
    assert len({run.returncode for run in runs}) == 1 and runs[0].returncode in (0, 1)
    assert len({o[0] for o in outputs}) == 1  # the same review three times
    assert len(records(root, tmp_path / "index")) == 40


def test_review_results_are_the_same_with_and_without_the_index(tmp_path):
    from reviewer.pipeline import build_review
    from reviewer.render.json_contract import review_dict

    root = base(tmp_path / "kb")
    write_tree(root, {f"{T}Dupe.md": claim_text("Claim 3 raises outcome 3 in district 3",
                                                 domain="x", body="See [[Nowhere]].\n")})
    rubric = load_rubric(None)

    def review(index):
        result = build_review(from_paths(root, [root / T / "Dupe.md"], rubric, index=index))
        data = review_dict(result)
        data.pop("rubric")
        return data

    plain = review(None)
    cold = review(open_index(tmp_path / "index", rubric.max_file_bytes))
    warm = review(open_index(tmp_path / "index", rubric.max_file_bytes))
    assert plain == cold == warm
    assert {f["rule"] for f in plain["files"][0]["findings"]} >= {
        "duplication.duplicate", "wiki_links.broken-link"}


def test_a_search_for_who_links_to_a_name_loads_only_the_notes_that_may(tmp_path, parses):
    files = {f"{T}Note {i} about harbour {i}.md":
             claim_text(f"Note {i} about harbour {i}", body="A 2024 audit.\n", domain="x")
             for i in range(6)}
    files[f"{T}Linker.md"] = claim_text("Linker cites a target", domain="x",
                                        body="See [[Ferry-LINKS shorten commutes]].\n")
    files[f"{T}Depender.md"] = claim_text("Depender rests on a target", domain="x",
                                          body="A 2024 audit.\n").replace(
        "---\n\n", "depends_on:\n  - \"[[ferry links shorten commutes]]\"\n---\n\n", 1)
    root = write_tree(tmp_path / "kb", files)
    settle(root)
    rubric = load_rubric(None)

    def search(words):
        index = open_index(tmp_path / "index", rubric.max_file_bytes)
        kb = KnowledgeBase(DirSource(root), rubric, index)
        kb.load_extras(kb.notes)  # the first run stores every note's links
        index.close()
        index = open_index(tmp_path / "index", rubric.max_file_bytes)
        kb = KnowledgeBase(DirSource(root), rubric, index)
        found = kb.mentioning(words)
        index.close()
        return sorted(found)

    probe = reviewer.kb.probes(["ferry links shorten commutes"])
    assert probe == [["commutes", "shorten", "ferry", "links"]]
    assert search(probe) == [f"{T}Depender.md", f"{T}Linker.md"]  # case and slug folded
    assert reviewer.kb.probes(["渡轮缩短通勤"]) is None  # no ASCII run: nothing filtered out
    assert len(search(None)) == 8
    assert search([["commutes", "harbour"]]) == []  # every word of a group, not any
    assert len(search([["commutes"]] * 101)) == 8  # too many names: nothing filtered out
