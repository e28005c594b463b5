"""The six rubric checks, in the order the review presents them.

A check is a module with this contract (tests/checks/test_registry.py holds every module
to it, and the engine and `inline` call only these names, never a check by name):

Required
    ID         the check's name everywhere: rubric key, JSON `check`, test file
    TITLE      its heading in the posted review
    RULES      long rule id ("wiki_links.broken-link") -> default severity
    DEFAULTS   its options and their defaults (rubrics/default.yaml repeats them)
    validate(claim, ctx, options) -> findings for one claim; pure, no I/O
    the module docstring: its documentation (What it checks, Why it matters, Options,
        Failing example, Passing example, What the judge is asked)

Optional
    LIMITS     option -> (least, most) for numeric options, checked when the rubric loads
    CHOICES    option -> allowed values, checked when the rubric loads
    vet_options(options) -> None, or a sentence saying what is wrong with them
    prepare(ctx, options) -> state kept in ctx.state[ID] for validate (e.g. scores
        computed once for the whole change)
    validate_change(ctx, options) -> findings across the whole change, possibly on files
        outside it (links elsewhere that a deletion breaks)
    fix(finding, line, claim, ctx, options) -> the line with the finding's certain fix
        applied, or None; `pr` offers it as a one-click suggestion
    judge_candidates(claim, ctx) -> existing notes the LLM judge sees for this claim and
        may name in the answer field JUDGE_REFERENCE (e.g. duplicate_of)
    OWN_TYPES  true: the check applies to notes of every declared type and chooses for
        itself, rule by rule (the engine otherwise runs on such notes only the checks
        their type lists)

The seventh check, `custom`, is the rubric's own rules (its `custom:` section): a
`custom.CustomCheck` built per rubric with the same contract, whose RULES come from the
rubric. `checks_for(rubric)` gives the checks a review under a rubric runs, and the
lookups below take the rubric to know its custom rules.
"""

from typing import Any

from reviewer.checks import (
    confidence,
    custom,
    duplication,
    schema,
    source_quality,
    specificity,
    wiki_links,
)

CHECKS = [schema, duplication, confidence, wiki_links, source_quality, specificity]
BY_ID = {module.ID: module for module in CHECKS}
ALL_RULES = {rule: module for module in CHECKS for rule in module.RULES}

# Short names ("broken-link") work wherever a rule is named; each is unique across checks,
# except the per-check rules every check has, which need their check ("schema.judge").
PER_CHECK_RULES = ("judge", "internal-error")
SHORT_NAMES = {rule.split(".", 1)[1]: rule for rule in ALL_RULES}


def checks_for(rubric: Any) -> list[Any]:
    """The checks a review under `rubric` runs, in the order of the review's sections:
    the six, then `custom` when the rubric declares custom rules."""
    own = custom.for_rubric(rubric)
    return [*CHECKS, own] if own is not None else list(CHECKS)


def check_of(check_id: str, rubric: Any = None) -> Any:
    """The check (module, or the rubric's custom check) with this id, or None."""
    return {m.ID: m for m in checks_for(rubric)}.get(check_id)


def custom_rules(rubric: Any) -> list[str]:
    """The rubric's custom rule ids: its checked rules, then its judge criteria."""
    own = custom.for_rubric(rubric)
    return [*own.RULES, *own.CRITERIA] if own is not None else []


def lookup_rule(name: str, rubric: Any = None) -> str | None:
    """The long id of a rule named long or short, or None. With `rubric`, its custom
    rules too (custom.<name>, or <name>)."""
    name = name.strip()
    if name in ALL_RULES:
        return name
    check, _, short = name.partition(".")
    if check in BY_ID and short in PER_CHECK_RULES:
        return name
    if name in SHORT_NAMES or rubric is None or custom.for_rubric(rubric) is None:
        return SHORT_NAMES.get(name)
    declared = custom_rules(rubric)
    if name in declared or name == f"{custom.ID}.internal-error":
        return name
    return f"{custom.ID}.{name}" if f"{custom.ID}.{name}" in declared else None


def suggest_names(name: str, rubric: Any = None) -> list[str]:
    """Checks and rules spelled like `name`, for a did-you-mean."""
    import difflib

    declared = custom_rules(rubric)
    known = [*BY_ID, *ALL_RULES, *SHORT_NAMES, custom.ID, *declared,
             *(rule.split(".", 1)[1] for rule in declared)]
    return difflib.get_close_matches(name, known, n=3, cutoff=0.6)


def rule_doc(rule: str, rubric: Any = None) -> str:
    """A rule's own paragraph (the check's RULE_DOCS), or what the judge rule means; a
    custom rule's is its description in the rubric."""
    check, _, short = rule.partition(".")
    own = custom.for_rubric(rubric) if check == custom.ID else None
    if own is not None and rule in own.RULE_DOCS:
        return own.RULE_DOCS[rule]
    if short == "judge":
        return (f"Raised by the LLM judge when it fails the claim on the {check} criterion "
                f"(judge.criteria.{check}); its rationale is the message and its quote must "
                "occur in the claim. It is at most judge.severity." + check + ", and a "
                "judge that names a candidate it restates is judge.confirmed_duplicate.")
    if short == "internal-error":
        return (f"The {check} check crashed on this file. The review fails closed: the file "
                "gets an error instead of passing unchecked. Report it as a bug, with the "
                "file.")
    module = ALL_RULES[rule]
    return getattr(module, "RULE_DOCS", {}).get(rule) or _section(module, "What it checks")


def documentation(module) -> str:
    """The check's docstring without its 'What the judge is asked' section: `explain`
    prints the rubric's criteria instead, which is what the judge is really asked."""
    doc = (module.__doc__ or "").strip()
    head, found, tail = doc.partition("\nWhat the judge is asked\n")
    if not found:
        return doc
    rest = tail.split("\n\n", 1)
    return (head.rstrip() + ("\n\n" + rest[1] if len(rest) > 1 else "")).strip()


def _section(module, heading: str) -> str:
    doc = module.__doc__ or ""
    _, _, tail = doc.partition(f"\n{heading}\n")
    return " ".join(tail.split("\n\n", 1)[0].split())
