"""duplication: titles (and descriptions) compared with the base and with the rest of the change."""

import json

import pytest
from conftest import add_claim, claim_text, own_claim, rules, run_check, the_finding

from reviewer.checks.duplication import title_difference
from reviewer.render import render
from reviewer.review import APPROVE, REQUEST_CHANGES

FOLDER = "domains/urban-transit/"
EXISTING = FOLDER + "Signal priority shortens bus trips on long-cycle corridors.md"
NEW_TITLE = "Off-board fare payment shortens bus dwell time by a fifth"


def review(kb, title, text=None, rubric=None):
    path = add_claim(kb, f"{FOLDER}{title}.md", text or own_claim(title))
    return run_check(kb, [path], rubric=rubric)


def test_distinct_claim_passes_and_is_not_its_own_duplicate(kb):
    result = review(kb, NEW_TITLE)  # the file sits in the knowledge base it is checked against
    assert rules(result, "duplication") == []
    assert result.verdict == APPROVE


def test_same_title_up_to_case_hyphens_and_punctuation_is_a_duplicate(kb):
    result = review(kb, "Signal-priority shortens bus trips on long cycle corridors!")
    assert rules(result, "duplication") == [(11, "duplication.duplicate")]
    found = the_finding(result, "duplication.duplicate")
    assert found.extras["duplicate_of"] == EXISTING
    assert found.extras["candidates"][0]["path"] == EXISTING
    assert result.verdict == REQUEST_CHANGES


def test_close_title_is_a_possible_duplicate(kb):
    result = review(kb, "Signal priority shortens bus journeys on long-cycle corridors")
    assert rules(result, "duplication") == [(11, "duplication.possible-duplicate")]
    found = the_finding(result, "duplication.possible-duplicate")
    assert found.severity == "warning"
    assert "duplicate_of" not in found.extras
    assert [c["path"] for c in found.extras["candidates"]] == [EXISTING]
    assert result.verdict == APPROVE


def test_same_description_is_a_possible_duplicate(kb):
    # claim_text's default description is the one both existing claims carry
    result = review(kb, NEW_TITLE, text=claim_text(NEW_TITLE))
    assert rules(result, "duplication") == [(11, "duplication.possible-duplicate")]
    candidates = the_finding(result, "duplication.possible-duplicate").extras["candidates"]
    assert {c["path"] for c in candidates} == {EXISTING,
                                              FOLDER + "Existing claim about buses.md"}
    assert all(c["description_score"] >= 90 for c in candidates)


def test_later_file_of_the_change_is_the_duplicate(kb):
    title = "Bike lanes raise cycling rates on arterial roads"
    first = add_claim(kb, f"{FOLDER}a/{title}.md", own_claim(title))
    second = add_claim(kb, f"{FOLDER}b/{title}.md", own_claim(title))
    result = run_check(kb, [second, first])
    assert [(f.path, f.line, f.rule) for f in result.findings if f.check == "duplication"] == \
        [(f"{FOLDER}b/{title}.md", 11, "duplication.duplicate")]
    assert the_finding(result, "duplication.duplicate").extras["duplicate_of"] == \
        f"{FOLDER}a/{title}.md"


def test_thresholds_come_from_the_rubric(kb):
    title = "Signal priority shortens bus journeys on long-cycle corridors"  # similarity 87
    (kb / ".claim-review.yaml").write_text(
        "checks:\n  duplication:\n    error_threshold: 85\n", encoding="utf-8")
    assert rules(review(kb, title), "duplication") == [(11, "duplication.duplicate")]
    (kb / ".claim-review.yaml").write_text(
        "checks:\n  duplication:\n    warning_threshold: 90\n", encoding="utf-8")
    assert rules(review(kb, title), "duplication") == []


def test_fail_on_warning_blocks_a_possible_duplicate(kb):
    (kb / ".claim-review.yaml").write_text(
        "schema:\n  domains: [urban-transit]\nverdict:\n  fail_on: warning\n", encoding="utf-8")
    result = review(kb, "Signal priority shortens bus journeys on long-cycle corridors")
    assert rules(result) == [(11, "duplication.possible-duplicate")]
    assert result.verdict == REQUEST_CHANGES


def test_reversed_direction_is_a_possible_duplicate_not_a_duplicate(kb):
    add_claim(kb, "domains/urban-transit/Inflation causes unemployment in small open economies.md",
              own_claim("Inflation causes unemployment in small open economies"))
    path = add_claim(kb, "domains/urban-transit/Unemployment causes inflation in small open "
                         "economies.md",
                     own_claim("Unemployment causes inflation in small open economies"))
    result = run_check(kb, [path])
    assert rules(result, "duplication") == [(11, "duplication.possible-duplicate")]
    assert result.verdict == APPROVE


def test_possible_duplicate_says_how_the_titles_differ(kb):
    result = review(kb, "Signal priority shortens bus journeys on long-cycle corridors")
    assert rules(result, "duplication") == [(11, "duplication.possible-duplicate")]
    assert the_finding(result, "duplication.possible-duplicate").extras["difference"] == \
        {"only_in_claim": ["journeys"], "only_in_candidate": ["trips"]}


def test_a_reversed_title_differs_by_no_word(kb):
    add_claim(kb, f"{FOLDER}Inflation causes unemployment in small open economies.md",
              own_claim("Inflation causes unemployment in small open economies"))
    path = add_claim(kb, f"{FOLDER}Unemployment causes inflation in small open economies.md",
                     own_claim("Unemployment causes inflation in small open economies"))
    found = the_finding(run_check(kb, [path]), "duplication.possible-duplicate")
    assert found.extras["difference"] == {"only_in_claim": [], "only_in_candidate": []}


def test_the_difference_is_in_the_json_contract(kb):
    result = review(kb, "Signal priority shortens bus journeys on long-cycle corridors")
    [finding] = [f for f in json.loads(render(result, "json"))["files"][0]["findings"]
                 if f["rule"] == "duplication.possible-duplicate"]
    assert finding["difference"]["only_in_candidate"] == ["trips"]


@pytest.mark.parametrize(("title", "other", "mine", "theirs"), [
    ("Bus lanes cut delays in cities", "Bus-lanes cut delays", ["in", "cities"], []),
    ("Bus lanes do not cut delays", "Bus lanes cut delays", ["do", "not"], []),  # stopwords kept
    ("The bus lane effect: the lanes cut delays", "the lanes cut delays",
     ["the", "bus", "lane", "effect"], []),  # the repeated word where the titles differ
    ("Lanes cut delays and lanes cut costs", "Lanes cut delays", ["and", "lanes", "cut", "costs"],
     []),
])
def test_title_difference(title, other, mine, theirs):
    assert title_difference(title, other) == {"only_in_claim": mine, "only_in_candidate": theirs}


def test_clauses_in_another_order_with_the_same_description_are_a_duplicate(kb):
    """"X because Y" against "Because Y, X": the same claim. "A causes B" against "B causes
    A" stays a possible duplicate: the difference is clause order, not word order."""
    description = "Measured across 40 corridors, the gain comes from fewer signal stops"
    add_claim(kb, f"{FOLDER}Bus lanes speed up buses because cars stop blocking them.md",
              own_claim("Bus lanes speed up buses because cars stop blocking them",
                        description=description))
    result = review(kb, "Because cars stop blocking them, bus lanes speed up buses",
                    own_claim("Because cars stop blocking them, bus lanes speed up buses",
                              description=description + "."))
    assert rules(result, "duplication") == [(10, "duplication.duplicate")]
    other = review(kb, "Because cars stop blocking them, bus lanes speed up buses",
                   own_claim("Because cars stop blocking them, bus lanes speed up buses"))
    assert [r for _l, r in rules(other, "duplication")] == ["duplication.possible-duplicate"]


def test_reversed_words_in_one_clause_stay_a_possible_duplicate(kb):
    description = "Measured across 40 corridors, the gain comes from fewer signal stops"
    add_claim(kb, f"{FOLDER}Unemployment causes inflation in small open economies.md",
              own_claim("Unemployment causes inflation in small open economies",
                        description=description))
    result = review(kb, "Inflation causes unemployment in small open economies",
                    own_claim("Inflation causes unemployment in small open economies",
                              description=description))
    assert [r for _l, r in rules(result, "duplication")] == ["duplication.possible-duplicate"]


def test_clauses_are_split_at_punctuation_and_connectives():
    from reviewer.checks.duplication import clauses

    assert clauses("X rises because Y falls") == clauses("Because Y falls, X rises")
    assert clauses("A causes B") != clauses("B causes A")
    assert clauses("a; b: c — d, which e") == "a | b | c | d | which e"
