"""safe_regex: what the load-time vetting of custom patterns accepts and refuses, and that
what it accepts stays fast on the text that hurts it most."""

from __future__ import annotations

import time

import pytest

from reviewer.safe_regex import ADJACENT, MAX_LINE, NESTED, UnsafePattern, vet


@pytest.mark.parametrize("pattern", [
    r"\bet al\b",
    r"\d+(?:,\d+)*",                      # the separator starts each pass
    r"\d+,\d+",                           # repeats apart, with a character between them
    r"\w+ly\b",                           # one repeat, then text it can take: quadratic at worst
    r"https?://\S+",
    r"(?i:paradigm[- ]shift\w*)",
    r"\b(?:1[5-9]|20)\d\d\b",
    r"(?:[A-Z]\w*\s){1,3}Study",          # a small repeat, each pass ended by a space
    r"(\d+a)*b",                          # each pass ended by a letter the digits cannot take
    r"[“\"][^”\"\n]{40,}[”\"]",
    r"\s*x\s*",
    r"a(?=b.*c)",                         # a lookahead is vetted on its own
    r"(?i)utili[sz]e",
    r"colou?r",                           # an optional letter before one it cannot be
    r"\bstudies?\b",
    r"\d{1,3}(?:,\d{3})+",
    r"(?:\d{1,3},){1,5}\d",
])
def test_linear_patterns_pass(pattern):
    assert vet(pattern).pattern == pattern


@pytest.mark.parametrize(("pattern", "says"), [
    (r"(a+)+$", NESTED),
    (r"(\d+)+x", NESTED),
    (r"(?:\w+\s?)+x", NESTED),
    (r"(a{1,50}){1,50}x", NESTED),        # a large bounded repeat is unbounded here
    (r"(?:\d+\.\d+)*x", NESTED),
    (r"\w+\s*\w+", ADJACENT),             # only optional text between them
    (r".*a.*", ADJACENT),                 # the text between them is theirs too
    (r"\d+[a-z]*\d+", ADJACENT),
    (r"\d+\d+", ADJACENT),
    # small choices multiply when chained or nested: each of these took over a minute
    # on a line of 2,000 letters before variable counts were treated like unbounded ones
    ("a{0,10}" * 8 + "b", ADJACENT),
    ("a?" * 30 + "b", ADJACENT),
    ("(?:ab)?" * 30 + "c", ADJACENT),
    (r"(?:a{1,10}){1,10}b", NESTED),
    (r"[a-z]{1,10}[a-z]{1,10}z", ADJACENT),
    (r"(a|ab)*c", "alternatives that can start with the same character"),
    (r"(?:ab|\wb)+x", "alternatives that can start with the same character"),
    (r"(a?)+x", "it repeats something that can match nothing"),
    (r"(x)\1", "backreference"),
    (r"(?P<w>x)(?P=w)", "backreference"),
    (r"(x)?(?(1)a|b)", "backreference or a conditional group"),
    (r"a*", "it can match the empty text"),
    (r"\b", "it can match the empty text"),
    (r"(", "it is not a valid regular expression"),
    ("a" * 501, "it is longer than 500 characters"),
])
def test_risky_patterns_are_refused_and_say_why(pattern, says):
    with pytest.raises(UnsafePattern) as caught:
        vet(pattern)
    assert says in str(caught.value)


def test_case_folding_counts_when_comparing_characters():
    with pytest.raises(UnsafePattern):
        vet(r"(?i)[A-Z]+[a-z]+x")
    vet(r"[A-Z]+[a-z]+x")  # case-sensitive: the two sets are apart


@pytest.mark.parametrize("pattern", [r"\w+ly\b", r".*foo", r"(?:,\d+)*x", r"\d+(?:,\d+)*x",
                                     r"[A-Z][a-z]+ [A-Z][a-z]+ study"])
@pytest.mark.parametrize("text", ["a" * MAX_LINE, ",1" * (MAX_LINE // 2), "1" * MAX_LINE,
                                  "Ab " * (MAX_LINE // 3)])
def test_what_passes_is_fast_on_a_capped_line(pattern, text):
    compiled = vet(pattern)
    started = time.perf_counter()
    list(compiled.finditer(text))
    assert time.perf_counter() - started < 0.5
