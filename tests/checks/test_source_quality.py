"""source_quality: the `source` field is attributable: no placeholders, traceable, dated."""

import pytest
from conftest import add_claim, own_claim, rules, run_check, the_finding

from reviewer.review import APPROVE, REQUEST_CHANGES

TITLE = "Bus lanes cut trip times on congested arterials"
SOURCE_LINE = 7  # own_claim(): description 4-5, confidence 6, source 7


def review(kb, source, rubric=None):
    path = add_claim(kb, f"domains/urban-transit/{TITLE}.md", own_claim(TITLE, source=source))
    return run_check(kb, [path], rubric=rubric)


@pytest.mark.parametrize("source", [
    "Alvarez and Chen, Corridor Study, 2024",
    "https://example.org/reports/bus-lanes",
    "doi:10.1016/j.tra.2024.01.002",
    "[[Existing claim about buses]], field notes 2024",
])
def test_attributable_sources_pass(kb, source):
    result = review(kb, source)
    assert rules(result, "source_quality") == []
    assert result.verdict == APPROVE


@pytest.mark.parametrize("source", ["unknown", "N/A", "Various.", "?",
                                    "various internet articles", "some blogs and news"])
def test_placeholder_source_is_an_error(kb, source):
    result = review(kb, source)
    assert rules(result, "source_quality") == [(SOURCE_LINE, "source_quality.placeholder-source")]
    assert the_finding(result, "source_quality.placeholder-source").extras["value"] == source
    assert result.verdict == REQUEST_CHANGES


def test_author_and_year_is_enough(kb):
    assert rules(review(kb, "Smith 2024"), "source_quality") == []


def test_thin_source_is_a_warning(kb):
    result = review(kb, "Living Capital")
    assert rules(result, "source_quality") == [(SOURCE_LINE, "source_quality.thin-source")]
    assert the_finding(result, "source_quality.thin-source").severity == "warning"
    assert result.verdict == APPROVE


def test_undated_source_is_a_warning(kb):
    result = review(kb, "Alvarez and Chen, Corridor Study")
    assert rules(result, "source_quality") == [(SOURCE_LINE, "source_quality.undated-source")]


def test_source_link_must_resolve(kb):
    result = review(kb, "[[Corridor study notes]], Alvarez 2024")
    assert rules(result, "source_quality") == [(SOURCE_LINE, "source_quality.broken-source-link")]
    assert the_finding(result, "source_quality.broken-source-link").extras["target"] == \
        "Corridor study notes"


def test_missing_or_non_text_source_is_left_to_schema(kb):
    assert rules(review(kb, None), "source_quality") == []
    assert rules(review(kb, ["a", "b"]), "source_quality") == []


def test_options_come_from_the_rubric(kb):
    (kb / ".claim-review.yaml").write_text(
        "checks:\n  source_quality:\n    min_words: 8\n", encoding="utf-8")
    assert rules(review(kb, "Alvarez and Chen, Corridor Study"), "source_quality") == \
        [(SOURCE_LINE, "source_quality.thin-source")]
    (kb / ".claim-review.yaml").write_text(
        "checks:\n  source_quality:\n    require_date_or_link: false\n", encoding="utf-8")
    assert rules(review(kb, "Alvarez and Chen, Corridor Study"), "source_quality") == []
