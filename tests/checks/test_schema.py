"""schema: (line, rule) pairs for each rule; parse-level rules live in tests/test_parse.py."""

from datetime import date

import pytest
from conftest import add_claim, own_claim, rules, run_check, the_finding

from reviewer.review import APPROVE, REQUEST_CHANGES

TITLE = "Bus lanes cut trip times on congested arterials"
PATH = f"domains/urban-transit/{TITLE}.md"
# own_claim() lines: type 2, domain 3, description 4-5, confidence 6, source 7, created 8,
# extra fields from 9, H1 title 11 (+1 per extra field line)


def review(kb, text, rel=PATH, rubric=None):
    return run_check(kb, [add_claim(kb, rel, text)], rubric=rubric)


def test_valid_claim_passes(kb):
    result = review(kb, own_claim(TITLE, secondary_domains=["soil-science"],
                                  last_evaluated=date(2026, 5, 1)))
    assert rules(result, "schema") == []
    assert result.verdict == APPROVE


def test_missing_fields_point_at_the_last_field(kb):
    result = review(kb, own_claim(TITLE, source=None, created=None))
    assert rules(result, "schema") == [(6, "schema.missing-field"), (6, "schema.missing-field")]
    assert sorted(f.extras["field"] for f in result.findings) == ["created", "source"]
    assert result.verdict == REQUEST_CHANGES


def test_null_field_is_missing(kb):
    text = own_claim(TITLE).replace("source: Alvarez and Chen, Corridor Study, 2024", "source:")
    assert rules(review(kb, text), "schema") == [(8, "schema.missing-field")]


def test_blank_and_empty_fields(kb):
    result = review(kb, own_claim(TITLE, description="   ", source=""))
    assert rules(result, "schema") == [(4, "schema.empty-field"), (6, "schema.empty-field")]


def test_field_that_should_be_text(kb):
    result = review(kb, own_claim(TITLE, confidence=3))
    assert rules(result, "schema") == [(6, "schema.not-a-string")]
    assert the_finding(result, "schema.not-a-string").extras["field"] == "confidence"


def test_wrong_type(kb):
    result = review(kb, own_claim(TITLE, type="insight"))
    assert rules(result, "schema") == [(2, "schema.wrong-type")]
    assert the_finding(result, "schema.wrong-type").extras["value"] == "insight"


def test_invalid_domain_suggests_the_closest(kb):
    result = review(kb, own_claim(TITLE, domain="urban-transport"))
    assert rules(result, "schema") == [(3, "schema.invalid-domain")]
    assert the_finding(result, "schema.invalid-domain").extras["suggestion"] == "urban-transit"


def test_without_a_domain_list_any_slug_is_accepted(tmp_path):
    kb = tmp_path / "kb"
    assert rules(review(kb, own_claim(TITLE, domain="transport-policy")), "schema") == []
    result = review(kb, own_claim(TITLE, domain="Urban Transit"))
    assert rules(result, "schema") == [(3, "schema.invalid-domain")]
    assert the_finding(result, "schema.invalid-domain").extras["suggestion"] == "urban-transit"


def test_invalid_confidence_suggests_the_closest(kb):
    result = review(kb, own_claim(TITLE, confidence="highly likely"))
    assert rules(result, "schema") == [(6, "schema.invalid-confidence")]
    assert the_finding(result, "schema.invalid-confidence").extras["suggestion"] == "likely"


def test_invalid_secondary_domain_is_a_warning(kb):
    result = review(kb, own_claim(TITLE, secondary_domains=["soil-science", "soil-sciense"]))
    assert rules(result, "schema") == [(9, "schema.invalid-secondary-domain")]
    found = the_finding(result, "schema.invalid-secondary-domain")
    assert (found.severity, found.extras["suggestion"]) == ("warning", "soil-science")
    assert result.verdict == APPROVE


@pytest.mark.parametrize("value", ["March 2026", "2026-3-1", "2026-02-30"])
def test_invalid_date(kb, value):
    assert rules(review(kb, own_claim(TITLE, created=value)), "schema") == \
        [(8, "schema.invalid-date")]


def test_impossible_unquoted_date_is_an_invalid_date_on_its_line(kb):
    text = own_claim(TITLE).replace("created: 2026-03-01", "created: 2026-13-45")
    assert rules(review(kb, text), "schema") == [(8, "schema.invalid-date")]


def test_future_date_against_the_pinned_today(kb):
    assert rules(review(kb, own_claim(TITLE, created=date(2026, 6, 1))), "schema") == []
    result = review(kb, own_claim(TITLE, last_evaluated=date(2026, 6, 2)))
    assert rules(result, "schema") == [(9, "schema.future-date")]


def test_last_evaluated_before_created(kb):
    result = review(kb, own_claim(TITLE, last_evaluated=date(2026, 2, 1)))
    assert rules(result, "schema") == [(9, "schema.date-order")]
    assert the_finding(result, "schema.date-order").severity == "warning"
    assert rules(review(kb, own_claim(TITLE, last_evaluated=date(2026, 3, 1))), "schema") == []


def test_list_field_that_is_not_a_list(kb):
    result = review(kb, own_claim(TITLE, depends_on="Existing claim about buses",
                                  challenged_by=["ok", 3]))
    assert rules(result, "schema") == [(9, "schema.not-a-list"), (10, "schema.not-a-list")]


def test_unknown_field_is_info_and_does_not_block(kb):
    result = review(kb, own_claim(TITLE, mood="sunny"))
    assert rules(result, "schema") == [(9, "schema.unknown-field")]
    assert the_finding(result, "schema.unknown-field").severity == "info"
    assert result.verdict == APPROVE


def test_rubric_turns_a_rule_off_or_an_option_off(kb):
    text = own_claim(TITLE, mood="sunny")
    (kb / ".claim-review.yaml").write_text(
        "schema:\n  domains: [urban-transit]\n"
        "checks:\n  schema:\n    severity: {unknown-field: off}\n", encoding="utf-8")
    assert rules(review(kb, text), "schema") == []
    (kb / ".claim-review.yaml").write_text(
        "checks:\n  schema:\n    report_unknown_fields: false\n", encoding="utf-8")
    assert rules(review(kb, text), "schema") == []


def test_rubric_lists_an_optional_field(kb):
    (kb / ".claim-review.yaml").write_text("schema:\n  optional: [mood]\n", encoding="utf-8")
    assert rules(review(kb, own_claim(TITLE, mood="sunny")), "schema") == []


def test_missing_title(kb):
    text = own_claim(TITLE).replace(f"# {TITLE}\n", "")
    result = review(kb, text)
    assert rules(result, "schema") == [(10, "schema.missing-title")]
    assert the_finding(result, "schema.missing-title").severity == "warning"


@pytest.mark.parametrize(("mode", "stem", "expected"), [
    ("either", TITLE, []),
    ("either", "bus-lanes-cut-trip-times-on-congested-arterials", []),
    ("either", "Bus lanes cut travel times", [(11, "schema.title-mismatch")]),
    ("slug", "bus-lanes-cut-trip-times-on-congested-arterials", []),
    ("verbatim", TITLE.lower(), []),
    # a link by title, [[Bus lanes cut ...]], would not resolve to a slug file name
    ("verbatim", "bus-lanes-cut-trip-times-on-congested-arterials",
     [(11, "schema.title-mismatch")]),
    ("off", "Something else entirely", []),
])
def test_title_match_modes(kb, mode, stem, expected):
    (kb / ".claim-review.yaml").write_text(
        f"schema:\n  domains: [urban-transit]\nchecks:\n  schema:\n    title_match: {mode}\n",
        encoding="utf-8")
    result = review(kb, own_claim(TITLE), rel=f"domains/urban-transit/{stem}.md")
    assert rules(result, "schema") == expected


def test_verbatim_title_may_keep_characters_a_file_name_cannot_hold(kb):
    (kb / ".claim-review.yaml").write_text(
        "checks:\n  schema:\n    title_match: verbatim\n", encoding="utf-8")
    title = "Do bus lanes cut trip times? Yes: by a fifth"
    result = review(kb, own_claim(title), rel="domains/x/Do bus lanes cut trip times Yes by a "
                                              "fifth.md")
    assert rules(result, "schema") == []


def test_title_mismatch_carries_the_title(kb):
    result = review(kb, own_claim(TITLE), rel="domains/urban-transit/Other name.md")
    assert the_finding(result, "schema.title-mismatch").extras["title"] == TITLE


def test_severity_override_changes_the_verdict(kb):
    text = own_claim(TITLE, type="insight")
    assert review(kb, text).verdict == REQUEST_CHANGES
    (kb / ".claim-review.yaml").write_text(
        "schema:\n  domains: [urban-transit]\n"
        "checks:\n  schema:\n    severity: {wrong-type: warning}\n", encoding="utf-8")
    result = review(kb, text)
    assert the_finding(result, "schema.wrong-type").severity == "warning"
    assert result.verdict == APPROVE


def test_disabled_check_reports_only_what_could_not_be_parsed(kb):
    (kb / ".claim-review.yaml").write_text("checks:\n  schema:\n    enabled: false\n",
                                           encoding="utf-8")
    assert rules(review(kb, own_claim(TITLE, type="insight")), "schema") == []
    assert rules(review(kb, "no frontmatter at all\n"), "schema") == \
        [(1, "schema.no-frontmatter")]
