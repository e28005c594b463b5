"""Regular expressions written in a rubric, vetted before they run on pull-request text.

A rubric's custom patterns are matched against text anyone can propose, and Python's
`re` backtracks: `(a+)+$` takes exponential time, `\\w+\\s*\\w+x` cubic time on a line of
letters. So every pattern is vetted once, when the rubric loads, and refused when:

- it does not compile, or is longer than MAX_PATTERN characters;
- it can match the empty text (it would match on every line);
- it uses a backreference or a conditional group (`\\1`, `(?P=name)`, `(?(1)a|b)`);
- two unbounded repeats (`*`, `+`, `{n,}` or any `{m,n}` above MAX_SMALL) follow each
  other over characters they share (a repeat of variable count, `?` or `{1,3}`, counts
  here too: small choices chained or nested multiply), with nothing between them that
  the first cannot match: `\\w+\\s*\\w+` and `.*a.*` are refused, `\\d+,\\d+` and `\\w+ly\\b` pass;
- a repeat that may run more than once holds an unbounded repeat that could run into its
  next pass (the body checked twice in a row, as above): `(\\d+)*`, `(?:\\w+\\s?)+` are
  refused, `(?:,\\d+)*` and `(?:[A-Z]\\w*\\s){0,3}` pass; or it holds alternatives that can
  start with the same character (`(a|ab)*`), or a body that can match nothing (`(a?)*`).

The test is static and conservative: it compares character sets on a sample of
characters (ASCII, a few letters, digits and spaces of other scripts, and every character
the pattern names), so it refuses some patterns that would in fact run fast. What it lets
through is at worst quadratic in the length of a line (a single `.*` or `\\w+` before
text it can also match), which the matcher bounds by reading at most MAX_LINE characters
of a line.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache

try:  # Python 3.11 and later
    from re import _constants as sre
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as sre  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

MAX_PATTERN = 500  # characters of one pattern
MAX_SMALL = 10  # a {m,n} repeat with n above this is treated as unbounded
MAX_LINE = 2000  # characters of a line a custom pattern or word list reads

_SAMPLE = string.printable + "\u00a0\u2003\u3000éÉßøΩωЖж中٣३’‘“”–—…€😀_"
_CATEGORY = {
    sre.CATEGORY_DIGIT: r"\d", sre.CATEGORY_NOT_DIGIT: r"\D",
    sre.CATEGORY_SPACE: r"\s", sre.CATEGORY_NOT_SPACE: r"\S",
    sre.CATEGORY_WORD: r"\w", sre.CATEGORY_NOT_WORD: r"\W",
}
_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT} | ({sre.POSSESSIVE_REPEAT}
                                              if hasattr(sre, "POSSESSIVE_REPEAT") else set())
_ATOMIC = getattr(sre, "ATOMIC_GROUP", None)
_ZERO_WIDTH = {sre.AT, sre.ASSERT, sre.ASSERT_NOT}


ADJACENT = ("it has two unbounded repeats in a row over the same characters (a `?` or "
            "`{m,n}` counts: small choices in a row multiply)")
NESTED = "it repeats a part whose unbounded repeat can run into the part's next pass"


class UnsafePattern(ValueError):
    """A pattern refused at load time; the message says why, in a few words."""


@lru_cache(maxsize=512)
def vet(pattern: str) -> re.Pattern[str]:
    """The compiled pattern, or UnsafePattern saying why it is refused."""
    if len(pattern) > MAX_PATTERN:
        raise UnsafePattern(f"it is longer than {MAX_PATTERN} characters")
    try:
        compiled = re.compile(pattern)
        tree = sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise UnsafePattern(f"it is not a valid regular expression ({exc})") from None
    Analysis(pattern, tree.state.flags).check(list(tree))
    return compiled


@dataclass
class Analysis:
    """Character sets are subsets of a finite universe: the sample, plus every character
    the pattern names (literals and range ends). Two ranges that overlap share an end, so
    overlaps between ranges are never missed."""

    pattern: str
    flags: int

    def __post_init__(self) -> None:
        named = set(_SAMPLE)
        for ch in self.pattern:
            named.update(_cases(ch))
        self.universe = frozenset(named)
        self._extra: set[str] = set()
        self._memo: dict[tuple, frozenset[str]] = {}

    # -- the checks ------------------------------------------------------------------
    def check(self, items: list) -> None:
        self._collect(items)
        self.universe = self.universe | frozenset(self._extra)
        if self.nullable(items, self.flags):
            raise UnsafePattern("it can match the empty text, so it would match every line")
        self.walk(items, frozenset(), self.flags)

    def _collect(self, items: list) -> None:
        """Add every literal and range end of the pattern to the universe."""
        for op, av in items:
            if op in (sre.LITERAL, sre.NOT_LITERAL):
                self._add(av)
            elif op == sre.IN:
                for sub_op, sub_av in av:
                    if sub_op == sre.LITERAL:
                        self._add(sub_av)
                    elif sub_op == sre.RANGE:
                        self._add(sub_av[0])
                        self._add(sub_av[1])
            for child in _children(op, av):
                self._collect(child)

    def _add(self, code: int) -> None:
        self._extra.update(_cases(chr(code)))

    def walk(self, items: list, open_: frozenset[str], flags: int) -> frozenset[str]:
        """Walk a sequence left to right. `open_` holds the characters that unbounded
        repeats before this point may still consume: an unbounded repeat that can start
        with one of them is adjacent to such a repeat. Returns the set after the sequence."""
        for op, av in items:
            open_ = self.step(op, av, open_, flags)
        return open_

    def step(self, op, av, open_: frozenset[str], flags: int) -> frozenset[str]:
        if op in (sre.GROUPREF, sre.GROUPREF_EXISTS):
            raise UnsafePattern("it uses a backreference or a conditional group")
        if op in _ZERO_WIDTH:
            if op != sre.AT:  # a lookaround is matched on its own
                self.walk(list(av[1]), frozenset(), flags)
            return open_
        if op == sre.SUBPATTERN:
            return self.walk(list(av[3]), open_, _flags(flags, av[1], av[2]))
        if op == _ATOMIC:
            return self.walk(list(av), open_, flags)
        if op == sre.BRANCH:
            after = frozenset()
            for branch in av[1]:
                after |= self.walk(list(branch), open_, flags)
            return after
        if op in _REPEATS:
            return self.repeat(av, open_, flags)
        chars = self.chars_of(op, av, flags)
        return open_ if chars & open_ else frozenset()  # a character they cannot take

    def repeat(self, av, open_: frozenset[str], flags: int) -> frozenset[str]:
        low, high, body = av[0], av[1], list(av[2])
        unbounded = _unbounded(high)
        # A repeat of variable count is a choice at each position; chained or nested,
        # even small ones multiply (`a{0,10}a{0,10}...`, `(?:a{1,10}){1,10}`, `a?a?...`).
        inner = unbounded or low != high or self.has_unbounded(body)
        if high >= 2 and (inner or high > MAX_SMALL):
            self.vet_body(body, unbounded, flags)
        first = self.first(body, flags)
        if inner and first & open_:
            raise UnsafePattern(ADJACENT)
        if high <= 1:  # ? or {0,1}: optional once
            after = self.walk(body, open_, flags)
            # taken or not, what follows may match what it could have
            return after | open_ | self.all_chars(body, flags) if low == 0 else after
        if not inner:  # a small bounded repeat of fixed things: like a literal
            chars = self.all_chars(body, flags)
            return open_ if chars & open_ or low == 0 else frozenset()
        chars = self.all_chars(body, flags)
        return open_ | chars if low == 0 or self.nullable(body, flags) else chars

    def vet_body(self, body: list, unbounded: bool, flags: int) -> None:
        """A body repeated more than once: not empty-matching, no alternatives that start
        alike, and no unbounded repeat that can run on into its next pass."""
        if self.nullable(body, flags):
            raise UnsafePattern("it repeats something that can match nothing")
        self.no_alike_branches(body, flags)
        try:
            self.walk(body + body, frozenset(), flags)
        except UnsafePattern as exc:
            if exc.args[0] != ADJACENT:
                raise
            raise UnsafePattern(NESTED) from None

    def no_alike_branches(self, items: list, flags: int) -> None:
        for op, av in items:
            if op == sre.BRANCH:
                seen: frozenset[str] = frozenset()
                for branch in av[1]:
                    first = self.first(list(branch), flags)
                    if first & seen or self.nullable(list(branch), flags):
                        raise UnsafePattern("it repeats alternatives that can start with "
                                            "the same character")
                    seen |= first
            if op == sre.SUBPATTERN:
                self.no_alike_branches(list(av[3]), _flags(flags, av[1], av[2]))
            elif op != sre.IN:
                for child in _children(op, av):
                    self.no_alike_branches(child, flags)

    # -- what a piece of pattern can match -------------------------------------------
    def has_unbounded(self, items: list) -> bool:
        for op, av in items:
            if op in _REPEATS and (_unbounded(av[1]) or av[0] != av[1]):
                return True
            if any(self.has_unbounded(child) for child in _children(op, av)):
                return True
        return False

    def nullable(self, items: list, flags: int) -> bool:
        return all(self.item_nullable(op, av, flags) for op, av in items)

    def item_nullable(self, op, av, flags: int) -> bool:
        if op in _ZERO_WIDTH:
            return True
        if op == sre.SUBPATTERN:
            return self.nullable(list(av[3]), flags)
        if op == _ATOMIC:
            return self.nullable(list(av), flags)
        if op == sre.BRANCH:
            return any(self.nullable(list(b), flags) for b in av[1])
        if op in _REPEATS:
            return av[0] == 0 or self.nullable(list(av[2]), flags)
        return False

    def first(self, items: list, flags: int) -> frozenset[str]:
        """The characters a match of the sequence can start with."""
        found: frozenset[str] = frozenset()
        for op, av in items:
            found |= self.item_first(op, av, flags)
            if not self.item_nullable(op, av, flags):
                break
        return found

    def item_first(self, op, av, flags: int) -> frozenset[str]:
        if op in _ZERO_WIDTH:
            return frozenset()
        if op == sre.SUBPATTERN:
            return self.first(list(av[3]), _flags(flags, av[1], av[2]))
        if op == _ATOMIC:
            return self.first(list(av), flags)
        if op == sre.BRANCH:
            return frozenset().union(*(self.first(list(b), flags) for b in av[1]))
        if op in _REPEATS:
            return self.first(list(av[2]), flags)
        return self.chars_of(op, av, flags)

    def all_chars(self, items: list, flags: int) -> frozenset[str]:
        """Every character the sequence can consume, anywhere in it."""
        found: frozenset[str] = frozenset()
        for op, av in items:
            if op in (sre.ASSERT, sre.ASSERT_NOT, sre.AT):
                continue
            if op == sre.SUBPATTERN:
                found |= self.all_chars(list(av[3]), _flags(flags, av[1], av[2]))
            elif op in _REPEATS or op in (sre.BRANCH, _ATOMIC):
                for child in _children(op, av):
                    found |= self.all_chars(child, flags)
            else:
                found |= self.chars_of(op, av, flags)
        return found

    def chars_of(self, op, av, flags: int) -> frozenset[str]:
        """The characters of the universe one single-character item matches."""
        key = (op, repr(av), flags)
        if key not in self._memo:
            self._memo[key] = self._chars_of(op, av, flags)
        return self._memo[key]

    def _chars_of(self, op, av, flags: int) -> frozenset[str]:
        if op == sre.ANY:
            return self.universe if flags & re.DOTALL else self.universe - {"\n"}
        if op == sre.LITERAL:
            return frozenset(ch for ch in self.universe if _same(ch, av, flags))
        if op == sre.NOT_LITERAL:
            return frozenset(ch for ch in self.universe if not _same(ch, av, flags))
        if op == sre.IN:
            return frozenset(ch for ch in self.universe if _in_class(ch, av, flags))
        raise UnsafePattern(f"it uses a construct claim-review does not vet ({op})")


def _children(op, av) -> list[list]:
    """The sub-sequences an item holds."""
    if op == sre.SUBPATTERN:
        return [list(av[3])]
    if op in _REPEATS:
        return [list(av[2])]
    if op == sre.BRANCH:
        return [list(b) for b in av[1]]
    if op in (sre.ASSERT, sre.ASSERT_NOT):
        return [list(av[1])]
    if op == _ATOMIC:
        return [list(av)]
    if op == sre.GROUPREF_EXISTS:
        return [list(b) for b in av[1:] if b is not None]
    return []


def _unbounded(high: int) -> bool:
    return high > MAX_SMALL  # MAXREPEAT ({n,}, *, +) included


def _cases(ch: str) -> set[str]:
    """The character and its one-character lower and upper case."""
    return {c for c in (ch, ch.lower(), ch.upper()) if len(c) == 1}


def _flags(flags: int, added: int, removed: int) -> int:
    return (flags | added) & ~removed


def _same(ch: str, code: int, flags: int) -> bool:
    other = chr(code)
    if flags & re.IGNORECASE:
        return ch.lower() == other.lower() or ch.upper() == other.upper()
    return ch == other


def _in_class(ch: str, items: list, flags: int) -> bool:
    negate = False
    hit = False
    variants = _cases(ch) if flags & re.IGNORECASE else {ch}
    for op, av in items:
        if op == sre.NEGATE:
            negate = True
        elif op == sre.LITERAL:
            hit = hit or any(_same(v, av, flags) for v in variants)
        elif op == sre.RANGE:
            hit = hit or any(av[0] <= ord(v) <= av[1] for v in variants)
        elif op == sre.CATEGORY:
            token = _CATEGORY.get(av)
            ascii_only = re.ASCII if flags & re.ASCII else 0
            hit = hit or token is None or bool(re.fullmatch(token, ch, ascii_only))
        else:
            hit = True  # anything unforeseen: assume it can match (conservative)
    return hit != negate
