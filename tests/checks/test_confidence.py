"""confidence: evidence for the stated level, hedges in proven claims, named counter-evidence."""

import time

import pytest
from conftest import add_claim, own_claim, rules, run_check, the_finding

from reviewer.checks.confidence import DEFAULTS, _compile, _compile_exact
from reviewer.review import APPROVE, REQUEST_CHANGES
from reviewer.rubric import RubricError, load_rubric

TITLE = "Bus lanes cut trip times on congested arterials"
HEDGED = "Bus lanes may cut trip times on congested arterials"
NO_EVIDENCE = "Buses move faster when they do not queue behind cars.\n"
CHALLENGES = "\n## Challenges\nNone are known yet.\n"
EVIDENCE = "A 2024 field trial of 1,200 sites measured a 14% reduction.\n"
TWO_WORKS = "Alvarez and Chen, Corridor Study, 2024; Okafor, Bus Audit, 2023"
# own_claim() lines: description 4-5, confidence 6, source 7, H1 title 11, body from 13


def review(kb, title=TITLE, rubric=None, **fields):
    path = add_claim(kb, f"domains/urban-transit/{title}.md", own_claim(title, **fields))
    return run_check(kb, [path], rubric=rubric)


def test_likely_claim_with_evidence_and_challenges_passes(kb):
    result = review(kb, body=EVIDENCE + CHALLENGES)
    assert rules(result, "confidence") == []
    assert result.verdict == APPROVE


def test_likely_claim_without_evidence(kb):
    result = review(kb, body=NO_EVIDENCE + CHALLENGES)
    assert rules(result, "confidence") == [(6, "confidence.missing-evidence")]
    assert the_finding(result, "confidence.missing-evidence").extras["level"] == "likely"
    assert result.verdict == REQUEST_CHANGES


def test_the_title_and_description_are_not_evidence(kb):
    title = "Bus lanes cut trip times by 20% on congested arterials"
    result = review(kb, title, body=NO_EVIDENCE + CHALLENGES,
                    description="A 2024 audit of 40 corridors measured the 20% gain")
    assert rules(result, "confidence") == [(5, "confidence.missing-evidence")]  # 1-line desc


def test_an_evidence_section_counts(kb):
    body = NO_EVIDENCE + "\n## Evidence\nRiders and drivers report it.\n" + CHALLENGES
    assert rules(review(kb, body=body), "confidence") == []


def test_low_levels_need_no_evidence(kb):
    result = review(kb, body=NO_EVIDENCE, confidence="speculative")
    assert rules(result, "confidence") == []


def test_evidence_levels_come_from_the_rubric(kb):
    (kb / ".claim-review.yaml").write_text(
        "checks:\n  confidence:\n    evidence_levels: [proven]\n", encoding="utf-8")
    assert rules(review(kb, body=NO_EVIDENCE + CHALLENGES), "confidence") == []


def test_proven_claim_hedging_in_its_title(kb):
    result = review(kb, HEDGED, body=EVIDENCE + CHALLENGES, confidence="proven",
                    source=TWO_WORKS)
    assert rules(result, "confidence") == [(11, "confidence.hedged-proven")]
    found = the_finding(result, "confidence.hedged-proven")
    assert (found.severity, found.extras["word"]) == ("warning", "may")


def test_proven_claim_hedging_on_a_single_source_is_an_error(kb):
    result = review(kb, HEDGED, body=EVIDENCE + CHALLENGES, confidence="proven",
                    source="Lee, 2025 pilot study of ten corridors")
    assert rules(result, "confidence") == [(11, "confidence.hedged-proven-single-source")]
    assert the_finding(result, "confidence.hedged-proven-single-source").severity == "error"
    assert result.verdict == REQUEST_CHANGES


def test_hedge_in_the_description_or_body(kb):
    result = review(kb, body=EVIDENCE + CHALLENGES, confidence="proven", source=TWO_WORKS,
                    description="Early trials suggest a fifth fewer delays on 40 corridors")
    assert rules(result, "confidence") == [(4, "confidence.hedged-proven")]
    body = EVIDENCE + "The gain could shrink as traffic grows.\n" + CHALLENGES
    result = review(kb, body=body, confidence="proven", source=TWO_WORKS)
    assert rules(result, "confidence") == [(14, "confidence.hedged-proven")]


def test_words_that_only_contain_a_hedge_and_quoted_links_are_not_hedges(kb):
    body = (EVIDENCE + "The mayor's office published the 2024 counts.\n"
            "> Critics say the gain may fade.\n"
            "- [[Existing claim about buses]] may explain part of it\n" + CHALLENGES)
    result = review(kb, body=body, confidence="proven", source=TWO_WORKS)
    assert rules(result, "confidence") == []


def test_hedge_words_come_from_the_rubric(kb):
    (kb / ".claim-review.yaml").write_text(
        "checks:\n  confidence:\n    hedge_words: [probably]\n", encoding="utf-8")
    result = review(kb, HEDGED, body=EVIDENCE + CHALLENGES, confidence="proven",
                    source=TWO_WORKS)
    assert rules(result, "confidence") == []


def test_likely_claim_naming_no_counter_evidence_gets_a_note(kb):
    result = review(kb, body=EVIDENCE)
    assert rules(result, "confidence") == [(6, "confidence.no-counter-evidence")]
    assert the_finding(result, "confidence.no-counter-evidence").severity == "info"
    assert result.verdict == APPROVE


def test_counter_evidence_by_field_or_by_section(kb):
    assert rules(review(kb, body=EVIDENCE, challenged_by=["Existing claim about buses"]),
                 "confidence") == []
    body = EVIDENCE + "\n## Limitations: rural routes\nNot measured there.\n"
    assert rules(review(kb, body=body), "confidence") == []


def test_hedges_in_the_challenges_section_are_how_counter_evidence_is_stated(kb):
    body = ("A 2024 trial of 1,200 sites measured a 14% cut (Alvarez et al., 2024).\n\n"
            "## Challenges\nThe effect may shrink in rural areas, and a 2023 survey could not "
            "replicate it.\n")
    result = review(kb, TITLE, body=body, confidence="proven")
    assert [r for r in rules(result, "confidence") if "hedged" in r[1]] == []


# -- empty-evidence ---------------------------------------------------------------------------
# NO_EVIDENCE is body line 13, so an Evidence heading after it and a blank line is line 15.
EMPTY_EVIDENCE_LINE = 15


def evidence_section(content: str, heading: str = "## Evidence") -> str:
    return NO_EVIDENCE + f"\n{heading}\n{content}" + CHALLENGES


@pytest.mark.parametrize("content", [
    "",
    "TODO\n",
    "- TBD\n",
    "...\n",
    "-\n",
    "N/A.\n",
    "Coming soon\n",
    "TODO: add the 2024 corridor audit\n",
    "<!-- the 2024 corridor audit goes here -->\n",
    "<!--\nfigures from the 2024 audit\n-->\n- [ ] todo\n",
    "### Field trial\nTBD\n",
])
def test_empty_evidence_section_is_not_evidence(kb, content):
    result = review(kb, body=evidence_section(content))
    assert rules(result, "confidence") == [(EMPTY_EVIDENCE_LINE, "confidence.empty-evidence")]
    found = the_finding(result, "confidence.empty-evidence")
    assert (found.severity, found.extras["section"]) == ("error", "evidence")
    assert result.verdict == REQUEST_CHANGES


@pytest.mark.parametrize("content", [
    "Riders and drivers report it.\n",
    "- [[Existing claim about buses]]\n",
    "### Field trial\nRiders and drivers report it.\n",
    "| corridor | minutes saved |\n|---|---|\n| A | 4 |\n",
])
def test_an_evidence_section_with_content_counts(kb, content):
    assert rules(review(kb, body=evidence_section(content)), "confidence") == []


def test_an_empty_section_is_reported_even_with_evidence_elsewhere(kb):
    body = EVIDENCE + "\n## Evidence\nTODO\n" + CHALLENGES
    assert rules(review(kb, body=body), "confidence") == [(15, "confidence.empty-evidence")]


def test_the_section_ends_at_the_next_heading_of_its_level(kb):
    body = NO_EVIDENCE + "\n## Evidence\n\n## Data\nRiders and drivers report it.\n" + CHALLENGES
    assert rules(review(kb, body=body), "confidence") == [(15, "confidence.empty-evidence")]


def test_low_levels_may_keep_an_empty_evidence_heading(kb):
    result = review(kb, body=evidence_section("TODO\n"), confidence="experimental")
    assert rules(result, "confidence") == []


def test_an_evidence_heading_in_code_is_no_section(kb):
    body = NO_EVIDENCE + "\n```markdown\n## Evidence\nTODO\n```\n" + CHALLENGES
    assert rules(review(kb, body=body), "confidence") == [(6, "confidence.missing-evidence")]


def test_evidence_placeholders_come_from_the_rubric(kb):
    (kb / ".claim-review.yaml").write_text(
        "checks:\n  confidence:\n    evidence_placeholders: [pending review]\n",
        encoding="utf-8")
    assert rules(review(kb, body=evidence_section("TODO\n")), "confidence") == []
    assert rules(review(kb, body=evidence_section("Pending review.\n")), "confidence") == \
        [(EMPTY_EVIDENCE_LINE, "confidence.empty-evidence")]


def test_an_empty_section_of_a_proven_claim_is_one_finding(kb):
    result = review(kb, body=evidence_section(""), confidence="proven", source=TWO_WORKS)
    assert rules(result, "confidence") == [(EMPTY_EVIDENCE_LINE, "confidence.empty-evidence")]


# -- proven-without-evidence ------------------------------------------------------------------
LINKED_ONLY = "Since [[Existing claim about buses]], buses move faster on these roads.\n"


def test_proven_claim_on_wiki_links_alone(kb):
    result = review(kb, body=LINKED_ONLY + CHALLENGES, confidence="proven", source=TWO_WORKS)
    assert rules(result, "confidence") == [(6, "confidence.proven-without-evidence")]
    found = the_finding(result, "confidence.proven-without-evidence")
    assert (found.severity, found.extras["level"]) == ("error", "proven")
    assert result.verdict == REQUEST_CHANGES


def test_likely_keeps_the_lighter_rule(kb):
    body = LINKED_ONLY + "\n## Evidence\n- [[Existing claim about buses]]\n" + CHALLENGES
    assert rules(review(kb, body=body), "confidence") == []
    assert rules(review(kb, body=body, confidence="proven", source=TWO_WORKS),
                 "confidence") == [(6, "confidence.proven-without-evidence")]


def test_text_inside_wiki_links_is_no_evidence_for_proven(kb):
    body = "Since [[Bus lanes cut delays by 14% in the 2024 Okafor trial]], buses move faster.\n"
    result = review(kb, body=body + CHALLENGES, confidence="proven", source=TWO_WORKS)
    assert rules(result, "confidence") == [(6, "confidence.proven-without-evidence")]
    assert rules(review(kb, body=body + CHALLENGES), "confidence") == []  # likely: as before


def test_counter_evidence_in_challenges_is_no_support(kb):
    body = NO_EVIDENCE + "\n## Challenges\nA 2023 survey of 40 routes by Okafor found no gain.\n"
    result = review(kb, body=body, confidence="proven", source=TWO_WORKS)
    assert rules(result, "confidence") == [(6, "confidence.proven-without-evidence")]


def test_proven_without_anything_is_reported_once(kb):
    result = review(kb, body=NO_EVIDENCE + CHALLENGES, confidence="proven", source=TWO_WORKS)
    assert rules(result, "confidence") == [(6, "confidence.proven-without-evidence")]


@pytest.mark.parametrize("evidence", [
    "Trip times fell 14% on the treated corridors.",
    "Trip times fell by a factor of 1.5 on the treated corridors.",
    "Counts covered 1,200 buses.",
    "Counts covered 40 corridors.",
    "Operators saved $3M a year.",
    "The effect held at p < 0.01.",
    "Okafor et al. measured it.",
    "Okafor (2023) measured it.",
    "As Okafor and Chen, 2023 report, it held.",
    "It held across the board (Okafor, 2023).",
    'The audit concluded: "buses in dedicated lanes kept to their timetable far more often".',
    "The 2024 Okafor trial measured it.",
    "Transport for London data show it.",
    "A survey by Transport for London measured it.",
    "See https://example.org/corridor-study for the counts.",
    "See doi:10.1234/transit.2024 for the counts.",
])
def test_concrete_evidence_markers(kb, evidence):
    result = review(kb, body=LINKED_ONLY + evidence + "\n" + CHALLENGES, confidence="proven",
                    source=TWO_WORKS)
    assert rules(result, "confidence") == []


@pytest.mark.parametrize("vague", [
    "The study found it.",
    "Researchers ran a trial on the corridors.",
    "In 2024 buses got faster.",
    "Since 2019, riders noticed it.",
    "Operators report it in 3 cities.",
])
def test_words_and_bare_years_are_not_concrete(kb, vague):
    result = review(kb, body=LINKED_ONLY + vague + "\n" + CHALLENGES, confidence="proven",
                    source=TWO_WORKS)
    assert rules(result, "confidence") == [(6, "confidence.proven-without-evidence")]


def test_concrete_levels_come_from_the_rubric(kb):
    (kb / ".claim-review.yaml").write_text(
        "checks:\n  confidence:\n    concrete_levels: []\n", encoding="utf-8")
    result = review(kb, body=LINKED_ONLY + CHALLENGES, confidence="proven", source=TWO_WORKS)
    assert rules(result, "confidence") == [(6, "confidence.missing-evidence")]


def test_a_concrete_pattern_that_does_not_compile_is_a_rubric_error(kb):
    (kb / ".claim-review.yaml").write_text(
        "checks:\n  confidence:\n    concrete_evidence_patterns: ['(unclosed']\n",
        encoding="utf-8")
    with pytest.raises(RubricError, match="concrete_evidence_patterns"):
        load_rubric(None, kb)


def test_default_patterns_run_in_linear_time():
    """Untrusted text: long runs of digits, capitals, quotes or brackets must not backtrack."""
    evidence = _compile(tuple(DEFAULTS["evidence_patterns"]))
    concrete = _compile_exact(tuple(DEFAULTS["concrete_evidence_patterns"]))
    n = 100_000
    for text in ("a " + "1" * n, "1." * n, "1," * n, "Ab " * n, '"' * n, "(" * n + "2024",
                 "Ab 12 " * n, "Ab Cd Ef " * n, "p" + "=" * n):
        started = time.perf_counter()
        evidence.search(text)
        concrete.search(text)
        assert time.perf_counter() - started < 5, text[:20]
