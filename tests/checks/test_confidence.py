"""confidence: evidence for the stated level, hedges in proven claims, named counter-evidence."""

import time

from conftest import add_claim, own_claim, rules, run_check, the_finding

from reviewer.checks.confidence import DEFAULTS, _compile
from reviewer.engine import APPROVE, REQUEST_CHANGES

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


def test_default_patterns_run_in_linear_time():
    """Untrusted text: long runs of digits, capitals, quotes or brackets must not backtrack."""
    evidence = _compile(tuple(DEFAULTS["evidence_patterns"]))
    n = 100_000
    for text in ("a " + "1" * n, "1." * n, "1," * n, "Ab " * n, '"' * n, "(" * n + "2024",
                 "Ab 12 " * n, "Ab Cd Ef " * n, "p" + "=" * n):
        started = time.perf_counter()
        evidence.search(text)
        assert time.perf_counter() - started < 5, text[:20]
