"""specificity: the title is a proposition specific enough to disagree with.

What it checks
    "This note argues that <title>" must read as a sentence. A title shorter
    than `min_words` words with no verb is a label (error); a short title with
    a verb is too short to carry its scope (warning); a longer title with no
    verb reads as a label too (warning). Unscoped
    universals in the title ("all", "always", "never", "every", "the only",
    "the fundamental", "no one") are flagged. The description must add
    information beyond the title: too similar to it, or adding fewer than
    `min_new_words` new content words, is flagged.

    A title that asks instead of asserting is an error (question-title): it
    ends with "?", or it opens with one of `question_words` ("does", "why",
    "how" ...) and has a "?" followed by a space or the end ("Why do buses
    bunch? Drivers ..."). A "?" closed by a quote or bracket quotes a question
    and does not count, and no "?" at all means no question: "Why buses
    bunch: timetables ignore dwell time" asserts.

    A vague quantifier from `vague_quantifiers` ("many", "significant",
    "increasingly" ...) in the title or the description is a warning
    (vague-quantifier) unless something next to it pins it down. "Next to
    it" means: in the same clause (clauses end at . ! ? ; : and at a dash
    standing alone or written as — or –; commas do not end one), among the
    `quantifier_window` (4) words before the quantifier or after it, there
    is a figure (any word with a digit: 40, 15%, 2024, 3x), a number word
    from `number_words` ("twice", "a third", "hundreds"), or a word from
    `scope_words` ("in", "among", "during" ...) that has another word after
    it in the clause, except the scope word right before the quantifier,
    which governs the quantifier's own phrase ("in many cities" is not
    scoped; "many riders in London" is). Occurrences inside a `not_vague`
    phrase ("statistically significant", "how many") are not vague. Words
    and phrases match whole words, case-insensitively; a hyphenated word
    ("many-to-many") is one word. Text is read once, word by word: the cost
    is linear in its length.

Why it matters
    A label ("Soil carbon") cannot be wrong, so it cannot be argued with,
    linked as a premise, or challenged. A question asks for a claim instead
    of making one. Universals make claims seem to contradict each other when
    they are about different scopes, and "significant" or "many" with no
    figure or scope cannot be checked against evidence or contradicted.

Options
    min_words (4), universals, extra_verbs, description_similarity (85),
    min_new_words (3), question_words, vague_quantifiers, not_vague,
    quantifier_window (4), scope_words, number_words. The word lists are in
    the knowledge base's language; write them in its language to use them
    in another.

Failing example
    # Soil carbon
    # Congestion pricing always reduces traffic
    # Does congestion pricing reduce traffic?
    # Congestion pricing significantly reduces traffic

Passing example
    # Congestion pricing cut central London traffic by 15% in its first year
    # Congestion pricing significantly reduced traffic in central London

What the judge is asked
    Whether the title is specific enough to disagree with and is scoped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from rapidfuzz import fuzz

from reviewer.claim import Claim, normalize_name
from reviewer.findings import ERROR, WARNING, Finding, make
from reviewer.kb import ReviewContext

ID = "specificity"
TITLE = "Specificity"
RULES = {
    "specificity.label-title": ERROR,
    "specificity.question-title": ERROR,
    "specificity.short-title": WARNING,
    "specificity.no-verb": WARNING,
    "specificity.unscoped-universal": WARNING,
    "specificity.description-restates-title": WARNING,
    "specificity.vague-quantifier": WARNING,
}
RULE_DOCS = {
    "specificity.label-title": (
        "Flags a title of fewer than 'min_words' (4) words with no verb: a topic, not a "
        "proposition. Verbs are recognised leniently (auxiliaries, a list of common verbs, "
        "'extra_verbs', words ending in -ed, and third-person -s forms except on the last "
        "word of a short title). A label cannot be wrong, so it cannot be argued with, "
        "linked as a premise or challenged. Example: '# Soil microbial diversity'."),
    "specificity.question-title": (
        "Flags a title that is a question rather than a proposition: it ends with '?', or it "
        "opens with one of 'question_words' (does, is, can, why, how, what ...) and has a "
        "'?' followed by a space or the end of the title. A '?' closed by a quote or a "
        "bracket quotes a question and does not count, and a title with no '?' is never "
        "taken for a question, since 'Why buses bunch: ...' and 'What matters is ...' "
        "assert. 'This note argues that <title>' cannot be completed with a question, and a "
        "question cannot be linked as a premise or contradicted. "
        "Example: '# Does congestion pricing reduce traffic because drivers switch to "
        "transit?'; answer it: '# Congestion pricing reduces traffic because ...'."),
    "specificity.short-title": (
        "Flags a title of fewer than 'min_words' (4) words that does have a verb. It reads as "
        "a sentence but is too short to say what, where and why, so it tends to collide with "
        "claims about other scopes. It is a warning, since some short propositions are "
        "precise. Example: '# Inflation erodes savings' (whose savings, where, how fast?)."),
    "specificity.no-verb": (
        "Flags a title of 'min_words' or more words in which no verb is found, so it reads as "
        "a noun phrase. 'This note argues that <title>' must read as a sentence. It is a "
        "warning because the verb detection is a word list, not a parser, and a domain verb "
        "may be missing from it (add it to 'extra_verbs'). "
        "Example: '# Microbial diversity in temperate arable soil'."),
    "specificity.unscoped-universal": (
        "Flags a title that uses one of the 'universals' ('all', 'always', 'never', 'every', "
        "'the only', ...) as a whole word, not inside a longer or hyphenated word. "
        "Universals make claims about different scopes look as if they contradict each "
        "other, and one counter-example refutes them. It is a warning: scope the claim, or "
        "argue in the body why the universal holds. "
        "Example: '# Circuit breakers always prevent cascading failures'."),
    "specificity.description-restates-title": (
        "Flags a description that adds little beyond the title: its similarity to the title "
        "is at least 'description_similarity' (85), or it adds fewer than 'min_new_words' (3) "
        "content words (not stopwords, longer than two letters) the title does not have. The "
        "description is where the mechanism, numbers, scope or source go; a restatement "
        "wastes it. Example: title 'Bike-share stations near rail stops increase rail "
        "ridership' with the description 'Bike share stations near rail stops increase "
        "ridership on rail'."),
    "specificity.vague-quantifier": (
        "Flags a word or phrase of 'vague_quantifiers' (many, several, significant, "
        "increasingly, a lot of ...) in the title or the description when nothing next to it "
        "says how many, how much or where: no figure, number word or scope word among the "
        "'quantifier_window' (4) words on either side within its clause. A scope word right "
        "before the quantifier does not count ('in many cities' stays vague), and phrases in "
        "'not_vague' ('statistically significant', 'how many') are skipped. Such a claim "
        "cannot be checked against evidence or contradicted: any change is 'significant' to "
        "someone. It is a warning, reported once per field with every vague word found. "
        "Example: description 'Bus lanes cut delays significantly' is flagged; 'Bus lanes cut "
        "delays significantly, by 20%' and 'Bus lanes significantly cut delays in London' "
        "pass."),
}
DEFAULTS = {
    "min_words": 4,
    "universals": ["all", "always", "never", "every", "the only", "the fundamental", "no one",
                   "nobody", "everyone", "everything", "nothing"],
    "extra_verbs": [],
    "description_similarity": 85,
    "min_new_words": 3,
    "question_words": ["does", "do", "did", "is", "are", "was", "were", "am", "can", "could",
                       "will", "would", "should", "shall", "may", "might", "must", "has",
                       "have", "had", "why", "how", "what", "when", "where", "which", "who",
                       "whom", "whose"],
    "vague_quantifiers": ["many", "some", "several", "various", "numerous", "countless",
                          "a lot of", "lots of", "a number of", "a great deal of",
                          "significant", "significantly", "substantial", "substantially",
                          "considerable", "considerably", "dramatically", "increasingly",
                          "more and more"],
    "not_vague": ["statistically significant", "statistically significantly", "how many",
                  "how much", "too many", "one of many"],
    "quantifier_window": 4,
    "scope_words": ["in", "among", "across", "within", "for", "during", "since", "between",
                    "per", "at", "after", "before", "until", "when", "where", "whenever"],
    "number_words": ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                     "ten", "eleven", "twelve", "twenty", "thirty", "forty", "fifty", "sixty",
                     "seventy", "eighty", "ninety", "hundred", "hundreds", "thousand",
                     "thousands", "million", "millions", "billion", "billions", "trillion",
                     "dozen", "dozens", "half", "third", "thirds", "quarter", "quarters",
                     "fifth", "fifths", "tenth", "tenths", "twice", "double", "triple",
                     "percent", "percentage"],
}
LIMITS = {"min_words": (0, 50), "description_similarity": (0, 100),
          "min_new_words": (0, 50)}

AUXILIARIES = frozenset("""
is are was were be been being am has have had do does did can cannot will would shall should
must may might could isn't aren't wasn't weren't hasn't haven't doesn't don't didn't can't
won't wouldn't shouldn't couldn't mustn't
""".split())
COMMON_VERBS = frozenset("""
cause create drive make require need reduce increase enable prevent produce improve lower
raise cut beat outperform fail win lose grow shrink become remain depend determine explain
predict shape lead follow emerge collapse scale outcompete replace undermine amplify
accelerate slow shift hold show prove suggest imply mean matter work beat erode compound
fragment converge diverge concentrate capture extract deliver compress expand limit bound
govern persist
""".split())
STOPWORDS = frozenset("""
a an the of in on at to for from by with and or but as is are was were be that this these
those it its their there than then so because which who whom whose what when where while
into onto over under about not no nor
""".split())
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d[\d.,%]*")


def validate(claim: Claim, ctx: ReviewContext, options: dict) -> Iterator[Finding]:
    line = claim.title_line or 1
    words = _WORD.findall(claim.title)
    short = len(words) < options["min_words"]
    verb = _has_verb(words, tuple(options["extra_verbs"]), strict=short)
    if short and not verb:
        yield make(ID, "label-title", claim.path, line,
                   f"title '{claim.title}' is a label ({_words(len(words))}, no verb), "
                   "not a proposition",
                   "state what is true and why: 'X causes Y because Z'", title=claim.title)
    elif short:
        yield make(ID, "short-title", claim.path, line,
                   f"title '{claim.title}' is {_words(len(words))}, fewer than "
                   f"{options['min_words']}: too short to say what, where and why",
                   "add the mechanism or the scope: 'X causes Y in Z because W'",
                   title=claim.title)
    elif not verb:
        yield make(ID, "no-verb", claim.path, line,
                   f"title '{claim.title}' has no verb, so it reads as a label",
                   "make it a sentence: 'This note argues that <title>' must read naturally",
                   title=claim.title)
    yield from _universals(claim, line, options)
    yield from _question(claim, line, options)
    yield from _vague(claim, line, options)
    yield from _description(claim, options)


def _words(n: int) -> str:
    return "1 word" if n == 1 else f"{n} words"


def _has_verb(words: list[str], extra: tuple[str, ...], strict: bool = False) -> bool:
    """Lenient on purpose: a missed label costs less than a false alarm. `strict` (for short
    titles) does not take a final plural-looking word for a verb: "AI diagnostics"."""
    for i, word in enumerate(words):
        w = word.lower().strip("'’")
        if w in AUXILIARIES or w in COMMON_VERBS or w in extra:
            return True
        if len(w) > 4 and w.endswith("ed"):
            return True
        if strict and i == len(words) - 1:
            continue
        if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
            return True  # third person ("drives") or a plural
    return False


def _universals(claim: Claim, line: int, options: dict) -> Iterator[Finding]:
    found = [m.group(0) for m in
             _universal_pattern(tuple(options["universals"])).finditer(claim.title)]
    if found:
        words = ", ".join(f'"{w}"' for w in dict.fromkeys(found))
        yield make(ID, "unscoped-universal", claim.path, line,
                   f"title uses the universal {words} without a stated scope",
                   "scope it (where, when, for whom), or argue in the body why the universal holds",
                   word=found[0].lower(), words=[w.lower() for w in dict.fromkeys(found)])


@lru_cache(maxsize=16)
def _universal_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)


def _description(claim: Claim, options: dict) -> Iterator[Finding]:
    description = claim.field_text("description")
    if not description:
        return  # the schema check reports a missing description
    title, text = normalize_name(claim.title), normalize_name(description)
    similarity = fuzz.ratio(title, text)
    new_words = _content(text) - _content(title)
    if similarity >= options["description_similarity"] or len(new_words) < options["min_new_words"]:
        yield make(ID, "description-restates-title", claim.path, claim.line_of("description"),
                   f"description adds little beyond the title (similarity {similarity:.0f}, "
                   f"{len(new_words)} new words)",
                   "use the description for what the title leaves out: mechanism, numbers, "
                   "scope or source", similarity=round(similarity, 1))


def _content(text: str) -> set[str]:
    return {w.rstrip("s") for w in text.split() if w not in STOPWORDS and len(w) > 2}


# -- question titles ----------------------------------------------------------------------
_CLOSERS = "'\"’”)]»"


def _question(claim: Claim, line: int, options: dict) -> Iterator[Finding]:
    title = claim.title.strip()
    words = _WORD.findall(title)
    opener = words[0].lower() if words else ""
    asks = opener in {w.lower() for w in options["question_words"]}
    if not (title.endswith("?") or asks and _open_question_mark(title)):
        return
    yield make(ID, "question-title", claim.path, line,
               f"title '{claim.title}' is a question, not a proposition",
               "answer it: state what the note argues is true, e.g. 'X causes Y because Z'",
               title=claim.title, word=opener if asks else "?")


def _open_question_mark(title: str) -> bool:
    """A '?' that ends a sentence: followed by a space or the end, not by a closing quote or
    bracket ('the "why now?" objection' quotes a question, it does not ask one)."""
    for i, char in enumerate(title):
        if char == "?" and (i + 1 == len(title) or title[i + 1] not in _CLOSERS):
            return True
    return False


# -- vague quantifiers -------------------------------------------------------------------
# One token per word, figure or clause break; each alternative consumes what the others
# cannot, so matching is linear in the length of the text.
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*%?|[^\W\d_][\w'’-]*|[.!?;:—–]|(?<!\S)--?(?!\S)")


def _vague(claim: Claim, line: int, options: dict) -> Iterator[Finding]:
    for where, text, at in (("title", claim.title, line),
                            ("description", claim.field_text("description"),
                             claim.line_of("description"))):
        found = vague_quantifiers(text, options)
        if not found:
            continue
        words = ", ".join(f'"{w}"' for w in found)
        yield make(ID, "vague-quantifier", claim.path, at,
                   f"{where} uses the vague quantifier {words} with no figure or scope "
                   "next to it", "say how many or how much (a number, a share, a range), "
                   "or scope it: where, when, among whom", where=where, word=found[0],
                   words=found)


def vague_quantifiers(text: str, options: dict) -> list[str]:
    """The vague quantifiers of `text` with no figure, number word or scope next to them,
    lower-cased, each once, in order of appearance."""
    phrases = _phrases(tuple(options["vague_quantifiers"]))
    exempt = _phrases(tuple(options["not_vague"]))
    scopes = {w.lower() for w in options["scope_words"]}
    numbers = {w.lower() for w in options["number_words"]}
    window = max(0, int(options["quantifier_window"]))
    found: list[str] = []
    for clause in _clauses(text):
        covered: set[int] = set()
        for start, end in _matches(clause, exempt):
            covered.update(range(start, end))
        for start, end in _matches(clause, phrases):
            if covered.intersection(range(start, end)):
                continue
            if not _anchored(clause, start, end, window, scopes, numbers):
                phrase = " ".join(clause[start:end])
                if phrase not in found:
                    found.append(phrase)
    return found


def _clauses(text: str) -> list[list[str]]:
    """Lower-cased words, split where a sentence or clause ends (. ! ? ; : and dashes)."""
    clauses: list[list[str]] = [[]]
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token[0] in ".!?;:—–-":
            if clauses[-1]:
                clauses.append([])
        else:
            clauses[-1].append(token.lower())
    return [c for c in clauses if c]


def _matches(words: list[str], phrases: dict[str, list[tuple[str, ...]]]
             ) -> Iterator[tuple[int, int]]:
    """(start, end) of each phrase occurrence, the longest phrase at a position first;
    matches do not overlap."""
    i = 0
    while i < len(words):
        for phrase in phrases.get(words[i], ()):
            if tuple(words[i:i + len(phrase)]) == phrase:
                yield i, i + len(phrase)
                i += len(phrase)
                break
        else:
            i += 1


def _anchored(words: list[str], start: int, end: int, window: int, scopes: set[str],
              numbers: set[str]) -> bool:
    """A figure or number word among the `window` words either side, or a scope word there
    that introduces a phrase (a word follows it) and does not govern the quantifier itself
    (the word right before it: 'for many years' is not scoped)."""
    lo, hi = max(0, start - window), min(len(words), end + window)
    for k in range(lo, hi):
        if start <= k < end:
            continue
        word = words[k]
        if any(c.isdigit() for c in word) or word in numbers:
            return True
        if word in scopes and k != start - 1 and k + 1 < len(words):
            return True
    return False


@lru_cache(maxsize=16)
def _phrases(entries: tuple[str, ...]) -> dict[str, list[tuple[str, ...]]]:
    """Phrases as word tuples, indexed by their first word, longest first."""
    index: dict[str, list[tuple[str, ...]]] = {}
    for entry in entries:
        words = tuple(w.lower() for w in _TOKEN.findall(entry))
        if words:
            index.setdefault(words[0], []).append(words)
    for alternatives in index.values():
        alternatives.sort(key=len, reverse=True)
    return index
