"""The baseline: findings a team has accepted for now, so that only new ones block.

`claim-review baseline` writes `.claim-review-baseline.json` (the rubric's `baseline:`
path): the fingerprint of every current finding with its count, one entry a line, in a
stable order, so that the file reads well in a diff. `check` (and `diff` and `pr`, from
the base commit's copy) marks baselined findings `existing`; an entry that no longer
matches anything in the files reviewed is stale, and `claim-review baseline --prune`
drops it. Judge findings are never baselined: they are not deterministic.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewer import __version__
from reviewer.compare import may_be_existing
from reviewer.findings import EXISTING, NEW
from reviewer.review import FileReport

FORMAT = 1
Key = tuple[str, str, str]  # path, rule, subject


class BaselineError(Exception):
    """A baseline file that cannot be read: a usage error naming the file."""


@dataclass
class Baseline:
    counts: Counter = field(default_factory=Counter)  # Key -> count
    origin: str = ""

    @classmethod
    def of(cls, reports: list[FileReport]) -> Baseline:
        counts: Counter = Counter()
        for report in reports:
            for finding in report.findings:
                if finding.source != "judge":
                    counts[(finding.path, finding.rule, finding.subject())] += 1
        return cls(counts)

    def apply(self, reports: list[FileReport], changed: bool = False) -> list[dict[str, Any]]:
        """Mark baselined new findings existing; the stale entries among `reports`' files.
        A team may accept notes that cannot be read in an audit of the base (`check`), but
        not in a change (`changed`): a note the change touches must be readable to pass."""
        remaining = Counter(self.counts)
        for report in reports:
            for finding in report.findings:
                key = (finding.path, finding.rule, finding.subject())
                if finding.status == NEW and finding.source != "judge" and remaining[key] > 0 \
                        and (not changed or may_be_existing(finding)):
                    remaining[key] -= 1
                    finding.status = EXISTING
                    finding.extras["baselined"] = True
        reviewed = {report.path for report in reports if report.claim is not None}
        return [_entry(key, n) for key, n in sorted(remaining.items())
                if n > 0 and key[0] in reviewed]

    def pruned(self, current: Baseline) -> Baseline:
        """Only the entries that still match a current finding, never new ones."""
        return Baseline(self.counts & current.counts, self.origin)

    def dumps(self, rubric_digest: str) -> str:
        entries = [json.dumps(_entry(key, n), ensure_ascii=False, sort_keys=True)
                   for key, n in sorted(self.counts.items()) if n > 0]
        head = (f'{{\n  "claim_review_baseline": {FORMAT},\n  "tool": "{__version__}",\n'
                f'  "rubric": {json.dumps(rubric_digest)},\n  "findings": [\n')
        return head + ",\n".join(f"    {e}" for e in entries) + ("\n" if entries else "") \
            + "  ]\n}\n"


def _entry(key: Key, count: int) -> dict[str, Any]:
    return {"path": key[0], "rule": key[1], "subject": key[2], "count": count}


def loads(text: str, origin: str) -> Baseline:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BaselineError(f"{origin}: not a claim-review baseline (invalid JSON: {exc})") \
            from exc
    if not isinstance(data, dict) or data.get("claim_review_baseline") != FORMAT \
            or not isinstance(data.get("findings"), list):
        raise BaselineError(f"{origin}: not a claim-review baseline of format {FORMAT}; "
                            "write it again with `claim-review baseline`")
    counts: Counter = Counter()
    for number, item in enumerate(data["findings"], start=1):
        try:
            key = (str(item["path"]), str(item["rule"]), str(item["subject"]))
            count = int(item.get("count", 1))
        except (TypeError, KeyError, ValueError) as exc:
            raise BaselineError(f"{origin}: entry {number} is malformed ({exc})") from exc
        counts[key] += max(count, 0)
    return Baseline(counts, origin)


def read(path: Path) -> Baseline | None:
    """The baseline at `path`, or None when there is none."""
    if not path.is_file() or path.is_symlink():
        return None
    try:
        return loads(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read the baseline ({exc})") from exc


def write(path: Path, text: str) -> None:
    """Atomically: a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(prefix=".claim-review-baseline.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
