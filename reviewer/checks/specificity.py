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

Why it matters
    A label ("Soil carbon") cannot be wrong, so it cannot be argued with,
    linked as a premise, or challenged. Universals make claims seem to
    contradict each other when they are about different scopes.

Options
    min_words (4), universals, extra_verbs, description_similarity (85),
    min_new_words (3).

Failing example
    # Soil carbon
    # Congestion pricing always reduces traffic

Passing example
    # Congestion pricing cut central London traffic by 15% in its first year

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
    "specificity.short-title": WARNING,
    "specificity.no-verb": WARNING,
    "specificity.unscoped-universal": WARNING,
    "specificity.description-restates-title": WARNING,
}
RULE_DOCS = {
    "specificity.label-title": (
        "Flags a title of fewer than 'min_words' (4) words with no verb: a topic, not a "
        "proposition. Verbs are recognised leniently (auxiliaries, a list of common verbs, "
        "'extra_verbs', words ending in -ed, and third-person -s forms except on the last "
        "word of a short title). A label cannot be wrong, so it cannot be argued with, "
        "linked as a premise or challenged. Example: '# Soil microbial diversity'."),
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
}
DEFAULTS = {
    "min_words": 4,
    "universals": ["all", "always", "never", "every", "the only", "the fundamental", "no one",
                   "nobody", "everyone", "everything", "nothing"],
    "extra_verbs": [],
    "description_similarity": 85,
    "min_new_words": 3,
}

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
