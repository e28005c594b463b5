"""specificity: the title is a scoped proposition and the description adds to it."""

import time

import pytest
from conftest import add_claim, own_claim, rules, run_check, the_finding

from reviewer.checks.specificity import DEFAULTS, vague_quantifiers
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


# -- question-title ---------------------------------------------------------------------------
@pytest.mark.parametrize(("title", "word"), [
    ("Does congestion pricing reduce traffic because drivers switch to transit?", "does"),
    ("Why do buses bunch? Drivers wait longer at stops with cash fares", "why"),
    ("Bus lanes cut trip times on arterials but for how long?", "?"),
])
def test_question_title(kb, title, word):
    result = review(kb, title)
    assert rules(result, "specificity") == [(TITLE_LINE, "specificity.question-title")]
    found = the_finding(result, "specificity.question-title")
    assert (found.severity, found.extras["word"]) == ("error", word)
    assert result.verdict == REQUEST_CHANGES


@pytest.mark.parametrize("title", [
    "Why buses bunch: drivers wait longer at stops with cash fares",
    "What matters for bus ridership is frequency rather than fares",
    "How 'why now?' objections stall bus lane projects in councils",
    "Does-nothing budgets leave bus shelters unrepaired for years",
])
def test_statements_that_open_like_questions_pass(kb, title):
    assert rules(review(kb, title), "specificity") == []


def test_question_words_come_from_the_rubric(kb):
    title = "Why do buses bunch? Drivers wait longer at stops with cash fares"
    rubric(kb, "    question_words: [does]\n")
    assert rules(review(kb, title), "specificity") == []
    assert rules(review(kb, "Do bus lanes cut trip times on congested arterials?"),
                 "specificity") == [(TITLE_LINE, "specificity.question-title")]


# -- vague-quantifier -------------------------------------------------------------------------
DESCRIPTION_LINE = 4
PLAIN = "Measured on 40 corridors in 2024, the gain comes from fewer signal stops"
PLAIN_TITLE_LINE = 10  # a one-line description moves the title up a line


def plain(kb, title):
    """A review whose description does not repeat the title (own_claim's default does)."""
    return review(kb, title, description=PLAIN)


def test_vague_quantifier_in_the_title(kb):
    result = plain(kb, "Bus lanes significantly cut trip times on congested arterials")
    assert rules(result, "specificity") == [(PLAIN_TITLE_LINE, "specificity.vague-quantifier")]
    found = the_finding(result, "specificity.vague-quantifier")
    assert (found.severity, found.extras["where"], found.extras["words"]) == \
        ("warning", "title", ["significantly"])
    assert result.verdict == APPROVE


def test_vague_quantifiers_in_the_description(kb):
    result = review(kb, TITLE, description="Many riders switch to buses after the lanes open, "
                                           "and operators report various other gains")
    assert rules(result, "specificity") == [(DESCRIPTION_LINE, "specificity.vague-quantifier")]
    assert the_finding(result, "specificity.vague-quantifier").extras["words"] == \
        ["many", "various"]


@pytest.mark.parametrize("title", [
    "Bus lanes cut trip times in many cities",  # the scope word governs the quantifier
    "Bus lanes cut trip times a lot of the time on arterials",
    "Bus lanes cut trip times significantly; a 2024 audit counted the riders",  # other clause
])
def test_quantifiers_left_vague(kb, title):
    assert rules(plain(kb, title), "specificity") == \
        [(PLAIN_TITLE_LINE, "specificity.vague-quantifier")]


@pytest.mark.parametrize("title", [
    "Bus lanes significantly cut trip times in central London",  # scope after
    "In London bus lanes significantly cut trip times",  # scope before
    "Bus lanes cut trip times significantly, by about 20%",  # a figure
    "Twice as many riders board buses on corridors with lanes",  # a number word
    "Bus lanes brought a statistically significant cut of trip times",  # not vague
    "Many-to-many transfers slow down suburban bus networks",  # one hyphenated word
])
def test_quantifiers_pinned_down_pass(kb, title):
    assert rules(plain(kb, title), "specificity") == []


def test_vague_quantifier_options_come_from_the_rubric(kb):
    title = "Bus lanes significantly cut trip times on congested arterials"
    rubric(kb, "    vague_quantifiers: [many, a lot of]\n")
    assert rules(plain(kb, title), "specificity") == []
    rubric(kb, "    scope_words: [on]\n")
    assert rules(plain(kb, title), "specificity") == []
    rubric(kb, "    quantifier_window: 1\n")
    assert rules(plain(kb, "In London bus lanes significantly cut trip times"),
                 "specificity") == [(PLAIN_TITLE_LINE, "specificity.vague-quantifier")]


def test_teleo_codex_preset_leaves_some_to_scope_universals(kb):
    """The checklist asks authors to scope universals; "some" is how they do it."""
    title = "Some bus lanes cut trip times because they skip the worst junctions"
    assert rules(plain(kb, title), "specificity") == \
        [(PLAIN_TITLE_LINE, "specificity.vague-quantifier")]
    (kb / ".claim-review.yaml").write_text("extends: teleo-codex\n", encoding="utf-8")
    assert rules(plain(kb, title), "specificity") == []
    assert rules(plain(kb, "Bus lanes significantly cut trip times on congested arterials"),
                 "specificity") == [(PLAIN_TITLE_LINE, "specificity.vague-quantifier")]


def test_vague_quantifiers_are_found_in_linear_time():
    """Untrusted text: the description can be as long as the file."""
    n = 50_000
    for text in ("many " * n, "many, " * n + "1", "in " * n + "significantly",
                 "- " * n, "1." * n, "a lot of " * n):
        started = time.perf_counter()
        vague_quantifiers(text, DEFAULTS)
        assert time.perf_counter() - started < 5, text[:20]
