"""specificity: the title is a scoped proposition and the description adds to it."""

import pytest
from conftest import add_claim, own_claim, rules, run_check, the_finding

from reviewer.review import APPROVE, REQUEST_CHANGES

TITLE = "Bus lanes cut trip times on congested arterials"
TITLE_LINE = 11  # own_claim(): description 4-5, H1 title 11


def review(kb, title, rubric=None, **fields):
    path = add_claim(kb, f"domains/urban-transit/{title}.md", own_claim(title, **fields))
    return run_check(kb, [path], rubric=rubric)


def rubric(kb, options: str) -> None:
    (kb / ".claim-review.yaml").write_text(
        "schema:\n  domains: [urban-transit]\nchecks:\n  specificity:\n" + options,
        encoding="utf-8")


@pytest.mark.parametrize("title", [
    TITLE,
    "Congestion pricing cut central London traffic by 15% in its first year",
    "All-weather tyres shorten braking distances on wet roads",  # "all" inside a word
    "Smaller buses rarely fill up on suburban routes",  # "all" inside "smaller"
])
def test_specific_titles_pass(kb, title):
    result = review(kb, title)
    assert rules(result, "specificity") == []
    assert result.verdict == APPROVE


def test_short_title_is_a_label(kb):
    result = review(kb, "Soil microbial diversity")
    assert rules(result, "specificity") == [(TITLE_LINE, "specificity.label-title")]
    found = the_finding(result, "specificity.label-title")
    assert (found.severity, found.extras["title"]) == ("error", "Soil microbial diversity")
    assert result.verdict == REQUEST_CHANGES


def test_title_without_a_verb(kb):
    result = review(kb, "Microbial diversity in temperate arable soil")
    assert rules(result, "specificity") == [(TITLE_LINE, "specificity.no-verb")]
    assert the_finding(result, "specificity.no-verb").severity == "warning"


def test_extra_verbs_come_from_the_rubric(kb):
    title = "Nitrogen runoff peak after heavy rain"
    assert rules(review(kb, title), "specificity") == [(TITLE_LINE, "specificity.no-verb")]
    rubric(kb, "    extra_verbs: [peak]\n")
    assert rules(review(kb, title), "specificity") == []


@pytest.mark.parametrize(("title", "word"), [
    ("Circuit breakers always prevent cascading failures in microservices", "always"),
    ("Every city gains riders when buses run more often", "every"),
    ("Frequency is the only lever that raises bus ridership", "the only"),
])
def test_unscoped_universal(kb, title, word):
    result = review(kb, title)
    assert rules(result, "specificity") == [(TITLE_LINE, "specificity.unscoped-universal")]
    assert the_finding(result, "specificity.unscoped-universal").extras["word"] == word


def test_universals_come_from_the_rubric(kb):
    rubric(kb, "    universals: [never]\n")
    title = "Circuit breakers always prevent cascading failures in microservices"
    assert rules(review(kb, title), "specificity") == []


def test_description_that_restates_the_title(kb):
    result = review(kb, TITLE, description=TITLE + ".")
    assert rules(result, "specificity") == [(4, "specificity.description-restates-title")]
    assert the_finding(result, "specificity.description-restates-title").extras[
        "similarity"] == 100


def test_description_that_adds_too_few_words(kb):
    result = review(kb, TITLE, description="Bus lanes cut trip times on arterials in cities")
    assert rules(result, "specificity") == [(4, "specificity.description-restates-title")]
    rubric(kb, "    min_new_words: 1\n")
    assert rules(review(kb, TITLE, description="Bus lanes cut trip times on arterials in "
                                               "cities"), "specificity") == []


def test_min_words_from_the_rubric(kb):
    title = "Bus lanes cut trip times"
    assert rules(review(kb, title), "specificity") == []
    rubric(kb, "    min_words: 6\n")
    assert rules(review(kb, title), "specificity") == [(TITLE_LINE, "specificity.short-title")]


@pytest.mark.parametrize("title", ["AI diagnostics", "Soil carbon", "Collective agent core"])
def test_short_verbless_titles_are_labels(kb, title):
    assert rules(review(kb, title), "specificity") == [(TITLE_LINE, "specificity.label-title")]


def test_short_title_with_a_verb_is_a_warning_not_a_label(kb):
    result = review(kb, "Inflation erodes savings")
    assert rules(result, "specificity") == [(TITLE_LINE, "specificity.short-title")]
    assert the_finding(result, "specificity.short-title").severity == "warning"
    assert result.verdict == APPROVE


def test_severity_override_changes_the_verdict(kb):
    rubric(kb, "    severity: {label-title: warning}\n")
    result = review(kb, "Soil microbial diversity")
    assert rules(result, "specificity") == [(TITLE_LINE, "specificity.label-title")]
    assert the_finding(result, "specificity.label-title").severity == "warning"
    assert result.verdict == APPROVE
