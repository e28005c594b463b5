"""Duplicates without all pairs: the blocked search reports exactly what all pairs report."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from conftest import run_check, write_tree

import reviewer.checks.duplication as duplication
from reviewer.nearby import Nearby, keys

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "teleo-kb"
SUBJECTS = ("bus lanes", "congestion charges", "cover crops", "drip irrigation", "canary "
            "releases", "feature flags", "school meals", "clinic hours", "rent caps",
            "ferry links", "heat pumps", "tree cover", "night buses", "tariff cuts")
VERBS = ("raise", "lower", "cut", "double", "shorten", "stabilise", "predict", "erode")
OBJECTS = ("rider numbers", "soil moisture", "outage length", "vaccination uptake",
           "commute times", "crop yields", "rents", "energy bills", "error budgets")
SCOPES = ("in dense cities", "on arid farms", "at large web services", "in rural districts",
          "during heatwaves", "for older adults", "after the first year", "in small towns")


def typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def synthetic_titles(n: int, seed: int = 5) -> list[str]:
    """Propositions plus a few percent of near-duplicates: typos, a qualifier added, words
    swapped, clauses reordered."""
    rng = random.Random(seed)
    titles = []
    for i in range(n):
        if titles and rng.random() < 0.06:
            base = rng.choice(titles).split()
            kind = rng.randrange(3)
            if kind == 0:
                j = rng.randrange(len(base))
                base[j] = typo(base[j], rng)
            elif kind == 1:
                base.append(rng.choice(SCOPES).split()[-1])
            else:
                j = rng.randrange(len(base) - 1)
                base[j], base[j + 1] = base[j + 1], base[j]
            titles.append(" ".join(base))
        else:
            titles.append(f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
                          f"{rng.choice(SCOPES)} by {rng.randrange(5, 60)} percent "
                          f"in case {i} of study {rng.randrange(10**6)}")
    return titles


def note(title: str, description: str) -> str:
    return (f"---\ntype: claim\ndomain: x\ndescription: \"{description}\"\nconfidence: "
            f"experimental\nsource: \"Field notes, 2024\"\ncreated: 2026-01-01\n---\n\n"
            f"# {title}\n\nA 2024 audit of 30 sites.\n")


def findings(root: Path, monkeypatch, blocking: bool) -> list[tuple]:
    monkeypatch.setattr(duplication, "BLOCKING_FROM", 0 if blocking else 10**18)
    review = run_check(root)
    return sorted((f.path, f.rule, f.extras.get("duplicate_of")) for f in review.findings
                  if f.check == "duplication")


def test_blocked_search_has_the_recall_of_all_pairs_on_a_2k_base(tmp_path, monkeypatch):
    titles = synthetic_titles(2000)
    rng = random.Random(9)
    words = [w for t in SUBJECTS + OBJECTS + SCOPES for w in t.split()]
    files = {f"domains/x/n{i:04d}.md": note(t, " ".join(rng.choice(words) for _ in range(12)))
             for i, t in enumerate(titles)}
    root = write_tree(tmp_path / "kb", files)
    all_pairs = findings(root, monkeypatch, blocking=False)
    assert len(all_pairs) > 60  # the base has near-duplicates to find
    assert findings(root, monkeypatch, blocking=True) == all_pairs


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the teleo-kb corpus is not beside the checkout")
def test_blocked_search_has_the_recall_of_all_pairs_on_the_corpus(monkeypatch):
    from reviewer.change import from_paths
    from reviewer.pipeline import build_review
    from reviewer.rubric import builtin_dir, load_rubric

    rubric = load_rubric(builtin_dir() / "teleo-codex.yaml")

    def run(blocking: bool):
        monkeypatch.setattr(duplication, "BLOCKING_FROM", 0 if blocking else 10**18)
        review = build_review(from_paths(CORPUS, [], rubric), no_llm=True)
        return sorted((f.path, f.rule, str(f.extras.get("duplicate_of"))) for f in
                      review.findings if f.check == "duplication")

    expected = run(blocking=False)
    assert len(expected) >= 40 and run(blocking=True) == expected


def test_keys_survive_one_typo_in_a_long_word():
    assert keys("futarchy markets") & keys("futarhcy markets")
    assert "=bus" in keys("bus lanes") and not keys("a an of")


def test_candidates_come_from_the_rarest_half_of_the_query_keys():
    texts = ["bus lanes cut delays", "bus lanes cut fares", "tram lanes cut noise", "a b"]
    near = Nearby(texts)
    for text in texts:
        near.add(text)
    # its rarest three keys of five ('delays' twice, 'bus'): text 1 shares 'bus'
    assert near.candidates("bus lanes cut delays") == [0, 1]
    assert near.candidates("tram noise") == [2]  # nothing else shares a key with it
    assert near.candidates("a b") is None  # no keys: score it against everything
