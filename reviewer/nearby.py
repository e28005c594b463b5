"""Near-identical strings without comparing all pairs.

Reviewing a whole base compares every claim's title with every other's: 10,000 claims make
50 million comparisons. `Nearby` indexes each string by word keys (a short word whole; a
longer word by its first three and its last three letters, so that one typo leaves at
least one of the two intact) and uses prefix filtering: two strings that share at least
half of the query's keys must share one of the query's rarest `n - ceil(n/2) + 1` keys (by
the pigeonhole principle). Strings at the similarity the duplicate check reports (85 and
up, on words in sorted order) share far more than half of their keys, so the filter keeps
every such pair while scoring only strings that share a rare key. A query without keys
(only short words) gets None: the caller scores it against everything.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from itertools import chain

OVERLAP = 0.5  # the share of the query's keys a near-identical string must have


def keys(text: str) -> set[str]:
    """`text` is already normalised (lower case, words separated by single spaces)."""
    found = set()
    for word in text.split():
        if len(word) >= 6:
            found.add("<" + word[:3])
            found.add(">" + word[-3:])
        elif len(word) >= 3:
            found.add("=" + word)
    return found


class Nearby:
    def __init__(self, every: Iterable[str]):
        """`every`: all the strings that will be added or queried, for key frequencies."""
        self._df = Counter(chain.from_iterable(keys(text) for text in every))
        self._postings: dict[str, list[int]] = defaultdict(list)
        self.size = 0

    def add(self, text: str) -> int:
        index = self.size
        for key in keys(text):
            self._postings[key].append(index)
        self.size += 1
        return index

    def candidates(self, text: str) -> list[int] | None:
        """Indices of the strings that may share half of `text`'s keys, or None."""
        found = sorted(keys(text), key=lambda k: (self._df.get(k, 0), k))
        if not found:
            return None
        prefix = found[: len(found) - math.ceil(OVERLAP * len(found)) + 1]
        postings = [self._postings[k] for k in prefix if k in self._postings]
        return list(dict.fromkeys(chain.from_iterable(postings)))
