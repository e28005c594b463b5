"""kb: which files make up the knowledge base, which are claims, and how links resolve."""

from pathlib import Path

import pytest
from conftest import write_tree

from reviewer.globs import matches
from reviewer.kb import AMBIGUOUS, MISSING, OK, OUTSIDE, KnowledgeBase
from reviewer.rubric import KB_CONFIG, load_rubric
from reviewer.sources import DirSource

FILES = [
    "Top.md",
    "a/Note One.md",
    "b/Note One.md",
    "a/sub/Deep Note.md",
    "x/y/Deep Note.md",
    "a/Unique.MD",
    "img/diagram.png",
    "docs/v1.2 release notes.md",
]


def build(root: Path, files: dict[str, str] | list[str]) -> KnowledgeBase:
    if isinstance(files, list):
        files = dict.fromkeys(files, "text\n")
    write_tree(root, files)
    rubric = load_rubric(None, root)
    return KnowledgeBase(DirSource(root, rubric.files_exclude), rubric)


@pytest.fixture
def index(tmp_path) -> KnowledgeBase:
    return build(tmp_path / "kb", FILES)


@pytest.mark.parametrize(("target", "status", "paths"), [
    ("Top", OK, ["Top.md"]),
    ("top", OK, ["Top.md"]),  # case-insensitive
    ("  Top  ", OK, ["Top.md"]),
    ("Top.md", OK, ["Top.md"]),  # a trailing .md is the same note
    ("TOP.MD", OK, ["Top.md"]),
    ("unique", OK, ["a/Unique.MD"]),
    ("a/Note One", OK, ["a/Note One.md"]),  # folder prefix
    ("b/note one.md", OK, ["b/Note One.md"]),
    ("sub/Deep Note", OK, ["a/sub/Deep Note.md"]),  # partial path suffix
    ("y/deep note", OK, ["x/y/Deep Note.md"]),
    ("a\\Note One", OK, ["a/Note One.md"]),  # Windows separators
    ("a/../Top", OK, ["Top.md"]),
    ("Note One", AMBIGUOUS, ["a/Note One.md", "b/Note One.md"]),
    ("Deep Note", AMBIGUOUS, ["a/sub/Deep Note.md", "x/y/Deep Note.md"]),
    ("ub/Deep Note", MISSING, []),  # a suffix is whole folder names
    ("Nowhere", MISSING, []),
    ("", MISSING, []),
    ("diagram.png", OK, ["img/diagram.png"]),  # attachments, by name or path
    ("img/DIAGRAM.png", OK, ["img/diagram.png"]),
    ("missing.png", MISSING, []),
    ("v1.2 release notes", OK, ["docs/v1.2 release notes.md"]),  # a dot in a note name
    ("../Top", OUTSIDE, []),
    ("a/../../etc/passwd", OUTSIDE, []),
    ("..", OUTSIDE, []),
    ("/../x", OUTSIDE, []),
    ("/Top", OK, ["Top.md"]),  # absolute means relative to the root ...
    ("/a/Note One", OK, ["a/Note One.md"]),
    ("/img/diagram.png", OK, ["img/diagram.png"]),
    ("/Note One", MISSING, []),  # ... and is never a bare name or a suffix
    ("/sub/Deep Note", MISSING, []),
    ("/diagram.png", MISSING, []),
])
def test_resolve(index, target, status, paths):
    found = index.resolve(target)
    assert (found.status, found.paths) == (status, paths)


def test_same_folder_breaks_a_tie(index):
    assert index.resolve("Note One", "a/Other.md").paths == ["a/Note One.md"]
    assert index.resolve("Note One", "b/c/Other.md").status == AMBIGUOUS
    assert index.resolve("Deep Note", "x/y/Other.md").paths == ["x/y/Deep Note.md"]


def test_added_note_becomes_resolvable(index):
    assert index.resolve("Proposed claim").status == MISSING
    index.add("/elsewhere/Proposed claim.md")
    assert index.resolve("Proposed claim").status == OK


def test_suggestions_name_the_closest_notes(index):
    assert index.suggest("Uniqeu") == ["Unique"]
    assert index.suggest("Completely unrelated words") == []


@pytest.mark.parametrize(("pattern", "path", "expected"), [
    ("*.md", "Top.md", True),
    ("*.md", "a/Top.md", False),  # * stays within a folder
    ("**/*.md", "Top.md", True),  # **/ may match no folder at all
    ("**/*.md", "a/b/c/Top.md", True),
    ("domains/*", "domains/x.md", True),
    ("domains/*", "domains/a/x.md", False),
    ("domains/**", "domains/a/b/x.md", True),
    ("domains/**", "other/domains/x.md", False),  # a pattern with a folder is anchored
    ("**/_map.md", "_map.md", True),
    ("**/_map.md", "domains/x/_map.md", True),
    ("**/_map.md", "domains/x/not_map.md", False),
    ("a?c.md", "abc.md", True),
    ("a?c.md", "a/c.md", False),
    ("**/* map.md", "domains/x/soil-science MAP.md", True),  # case-insensitive
    ("docs/[draft].md", "docs/[draft].md", True),  # no character classes: literal
])
def test_globs(pattern, path, expected):
    assert matches(path, [pattern]) is expected


def test_include_and_exclude(tmp_path):
    index = build(tmp_path, {
        KB_CONFIG: "files:\n  include: ['notes/**']\n  exclude: ['notes/drafts/**']\n",
        "notes/Kept.md": "x", "notes/drafts/Draft.md": "x", "other/Outside.md": "x",
        "notes/image.png": "x"})
    assert index.notes == ["notes/Kept.md"]
    assert index.resolve("Draft").status == MISSING
    assert index.resolve("image.png").status == OK  # attachments are not notes


def test_vcs_hidden_and_dependency_folders_are_skipped(tmp_path):
    index = build(tmp_path, [".git/HEAD.md", ".obsidian/workspace.md", "node_modules/p/x.md",
                             "a/node_modules/p/y.md", ".github/PULL_REQUEST.md", "Kept.md"])
    assert index.notes == ["Kept.md"]


CLAIM = "---\ntype: claim\n---\n# A claim\n"
NOT_CLAIM = "---\ntype: source\n---\n# A source\n"


def test_is_claim_by_type_without_claim_paths(tmp_path):
    index = build(tmp_path, {"anywhere/Claim.md": CLAIM, "sources/Source.md": NOT_CLAIM,
                             "Plain.md": "# Just notes\n", "Broken.md": "---\n[\n---\n"})
    assert index.claim_paths() == ["anywhere/Claim.md"]


def test_claim_paths_and_exclude(tmp_path):
    index = build(tmp_path, {
        KB_CONFIG: "claims:\n  paths: ['domains/**']\n  exclude: ['**/_map.md']\n",
        "domains/x/Claim.md": CLAIM,
        "domains/x/Wrong type.md": NOT_CLAIM,  # under a claim path: a claim whatever it says
        "domains/x/No frontmatter.md": "# A claim that forgot its frontmatter\n",
        "domains/x/_map.md": CLAIM,  # excluded even though it says type: claim
        "notes/Typed claim.md": CLAIM,  # outside the paths, `type: claim` still counts
        "notes/Musing.md": NOT_CLAIM})
    assert index.claim_paths() == ["domains/x/Claim.md", "domains/x/No frontmatter.md",
                                   "domains/x/Wrong type.md", "notes/Typed claim.md"]


def test_claim_type_comes_from_the_rubric(tmp_path):
    index = build(tmp_path, {KB_CONFIG: "schema:\n  type: assertion\n",
                             "A.md": "---\ntype: assertion\n---\n", "B.md": CLAIM})
    assert index.claim_paths() == ["A.md"]


def test_title_entries_skip_excluded_paths(tmp_path):
    index = build(tmp_path, {"A.md": CLAIM + "\nText.\n", "B.md": CLAIM})
    entries = index.title_entries(exclude={"B.md"})
    assert [(e.path, e.title) for e in entries] == [("A.md", "A claim")]
    assert index.info("A.md").first_paragraph == "Text."


def test_links_to_finds_links_by_name(tmp_path):
    index = build(tmp_path, {"A.md": "See [[Gone]] and [[x/gone.md|alias]].\n",
                             "B.md": "Nothing.\n", "x/Gone.md": "x"})
    assert index.links_to({"x/Gone.md"}) == \
        [("A.md", ("Gone", 1, "[[Gone]]")), ("A.md", ("x/gone.md", 1, "[[x/gone.md|alias]]"))]


def test_relative_links_resolve_from_the_linking_note_and_never_leave_the_root(tmp_path):
    from reviewer.kb import OUTSIDE, KnowledgeBase
    from reviewer.rubric import load_rubric
    from reviewer.sources import DirSource

    for rel in ("domains/health/a.md", "domains/ai/b.md", "top.md"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x\n", encoding="utf-8")
    kb = KnowledgeBase(DirSource(tmp_path), load_rubric())
    src = "domains/health/a.md"
    assert kb.resolve("../ai/b", src).paths == ["domains/ai/b.md"]
    assert kb.resolve("./a.md", src).paths == ["domains/health/a.md"]
    assert kb.resolve("../../top", src).paths == ["top.md"]
    assert kb.resolve("../../../etc/passwd", src).status == OUTSIDE
    assert kb.resolve("../b", "top.md").status == OUTSIDE
