"""The impact of a rubric change: the whole knowledge base reviewed with the old rubric and
with the new one (deterministic checks, no baseline), and per rule the findings the change
adds and removes.

Findings are matched by path and `Finding.fingerprint()` (rule and subject, never the
line or the wording), counted with multiplicity, so a reworded message is no change. A
finding both reviews have at another severity is counted apart, as a severity change.

`claim-review rubric impact` prints it; `impact_of_change` and `impact_table` are what a
pull-request review calls to show it when the change touches the rubric.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewer.checks import ALL_RULES
from reviewer.findings import RANK, Finding
from reviewer.review import Review
from reviewer.rubric import KB_CONFIG, Rubric, builtin_dir, builtin_names, load_rubric


@dataclass
class RuleImpact:
    rule: str
    before: int = 0
    after: int = 0
    added: list[Finding] = field(default_factory=list)
    removed: list[Finding] = field(default_factory=list)
    severity: list[tuple[Finding, Finding]] = field(default_factory=list)  # (before, after)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.severity)


@dataclass
class Impact:
    before: str  # what the old rubric is, as shown
    after: str
    where: str  # what was reviewed
    reviewed: tuple[int, int]  # claims reviewed before, after
    blocking: tuple[int, int]  # claims with a finding at or above verdict.fail_on
    rules: dict[str, RuleImpact]

    def changed(self) -> list[RuleImpact]:
        return [r for r in self.rules.values() if r.changed]

    def totals(self) -> tuple[int, int, int, int, int]:
        rules = self.rules.values()
        return (sum(r.before for r in rules), sum(r.after for r in rules),
                sum(len(r.added) for r in rules), sum(len(r.removed) for r in rules),
                sum(len(r.severity) for r in rules))


# -- the two rubrics ----------------------------------------------------------------
def rubric_before(against: str, root: Path, rubric: Path | None) -> tuple[Rubric, str]:
    """The rubric before the change, and how to show it: `against` is a rubric file when
    one exists there, else a built-in rubric name, else a git ref of the repository `root`
    is in, where the rubric file (`rubric`, else the knowledge base's) is read from git
    objects; a ref without it had the built-in default."""
    from reviewer.base_rubric import blob_id, git_reader, load_base_rubric
    from reviewer.change import toplevel
    from reviewer.sources import SourceError, git

    if Path(against).is_file():
        return load_rubric(Path(against)), against
    if against in builtin_names():
        return load_rubric(builtin_dir() / f"{against}.yaml"), against
    try:
        commit = git(root, "rev-parse", "--verify", "--quiet", against + "^{commit}")
        top = toplevel(root)
    except SourceError:
        raise SourceError(f"--against {against}: no such file, built-in rubric "
                          f"({', '.join(builtin_names())}) or git ref in {root}") from None
    file = (rubric if rubric is not None else root / KB_CONFIG).resolve()
    if not file.is_relative_to(top.resolve()):
        raise SourceError(f"--against {against}: the rubric {rubric} is outside the "
                          f"repository {top}, so it has no version at a git ref")
    path = file.relative_to(top.resolve()).as_posix()
    commit_id = commit.decode().strip()
    if blob_id(top, commit_id, path) is None:
        return load_rubric(None, None), f"default (no {path} at {against})"
    return load_base_rubric(git_reader(top, commit_id, against), against, path), \
        f"{path} at {against}"


def rubric_after(root: Path, rubric: Path | None) -> tuple[Rubric, str]:
    """The rubric after the change (`rubric`, else the knowledge base's own), and its name."""
    if rubric is not None:
        return load_rubric(rubric, root), str(rubric)
    shown = f"the working tree's {KB_CONFIG}" if (root / KB_CONFIG).is_file() else "default"
    return load_rubric(None, root), shown


# -- measuring ---------------------------------------------------------------------
def review_whole(source: Any, rubric: Rubric) -> Review:
    """Every claim of the source, as `check` with no file reviews a knowledge base."""
    from reviewer.change import Change, today
    from reviewer.kb import KnowledgeBase, ReviewContext
    from reviewer.pipeline import build_review

    kb = KnowledgeBase(source, rubric)
    claims = [kb.claim(p) for p in kb.claim_paths()]
    ctx = ReviewContext(kb=kb, base=kb, claims=claims, rubric=rubric, today=today())
    return build_review(Change(ctx), no_llm=True)


def measure(old: Rubric, new: Rubric, *, root: Path | None = None, repo: Path | None = None,
            ref: str | None = None, before: str = "before", after: str = "after") -> Impact:
    """Review the knowledge base in the folder `root`, or at `ref` of the git repository
    `repo`, with both rubrics, and compare."""
    from reviewer.sources import DirSource, GitTreeSource

    if root is not None:
        reviews = [review_whole(DirSource(root, r.files_exclude), r) for r in (old, new)]
        where = str(root)
    elif repo is not None and ref is not None:
        tree = GitTreeSource(repo, ref)
        reviews = [review_whole(tree, r) for r in (old, new)]
        where = f"{repo} at {tree.label()}"
    else:
        raise ValueError("measure needs a folder, or a repository and a ref")
    return compare(reviews[0], reviews[1], before, after, where)


def impact_of_change(repo: Path, base: str, head: str, path: str = KB_CONFIG
                     ) -> Impact | None:
    """For a pull request: None when the change leaves the rubric at `path` alone; else
    the base tree reviewed with the base's rubric and with the head's."""
    from reviewer.base_rubric import blob_id, git_reader, load_base_rubric
    from reviewer.change import merge_base

    start = merge_base(repo, base, head)
    if blob_id(repo, start, path) == blob_id(repo, head, path):
        return None
    old = load_base_rubric(git_reader(repo, start, start[:12]), start[:12], path)
    new = load_base_rubric(git_reader(repo, head, head), head, path)
    return measure(old, new, repo=repo, ref=start, before=f"{path} at {start[:12]}",
                   after=f"{path} at {head}")


def compare(before: Review, after: Review, old: str = "before", new: str = "after",
            where: str = "") -> Impact:
    rules: dict[str, RuleImpact] = {}
    old_by = _by_key(before.findings)
    new_by = _by_key(after.findings)
    for key in sorted(set(old_by) | set(new_by)):
        was, now = old_by.get(key, []), new_by.get(key, [])
        rule = (was or now)[0].rule
        entry = rules.setdefault(rule, RuleImpact(rule))
        entry.before += len(was)
        entry.after += len(now)
        for a, b in zip(was, now, strict=False):  # the surplus is what was added or removed
            if a.severity != b.severity:
                entry.severity.append((a, b))
        entry.removed += was[len(now):]
        entry.added += now[len(was):]
    order = {rule: i for i, rule in enumerate(ALL_RULES)}
    ordered = dict(sorted(rules.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))
    return Impact(old, new, where, (_claims(before), _claims(after)),
                  (_blocking(before), _blocking(after)), ordered)


def _by_key(findings: list[Finding]) -> dict[tuple[str, str], list[Finding]]:
    grouped: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in sorted(findings, key=Finding.sort_key):
        grouped[(finding.path, finding.fingerprint())].append(finding)
    return grouped


def _claims(review: Review) -> int:
    return review.stats.get("reviewed", 0)


def _blocking(review: Review) -> int:
    bar = RANK[review.rubric.fail_on]
    return sum(1 for report in review.files
               if any(RANK.get(f.severity, 3) >= bar for f in report.findings))


# -- showing -----------------------------------------------------------------------
HEAD = ["rule", "before", "after", "added", "removed", "severity changed"]


def impact_table(impact: Impact, markdown: bool = True, examples: int = 3) -> str:
    """The impact as text, or as markdown safe to post in a pull-request review (claim
    text is escaped). Per changed rule: counts, then up to `examples` of each kind."""
    if markdown:
        return _markdown(impact, examples)
    return _text(impact, examples)


def _summary(impact: Impact) -> list[str]:
    before, after, added, removed, severity = impact.totals()
    return [f"claims reviewed: {impact.reviewed[0]} before, {impact.reviewed[1]} after",
            f"claims with a blocking finding: {impact.blocking[0]} before, "
            f"{impact.blocking[1]} after",
            f"findings: {before} before, {after} after ({added} added, {removed} removed, "
            f"{severity} at another severity)"]


def _rows(impact: Impact) -> list[list[str]]:
    return [[r.rule, str(r.before), str(r.after), f"+{len(r.added)}" if r.added else "0",
             f"-{len(r.removed)}" if r.removed else "0", str(len(r.severity))]
            for r in impact.changed()]


def _example(finding: Finding) -> str:
    return f"{finding.path}:{finding.line}: {finding.severity}: {finding.message}"


def _moved(pair: tuple[Finding, Finding]) -> str:
    a, b = pair
    return f"{b.path}:{b.line}: {a.severity} -> {b.severity}: {b.message}"


def _examples(entry: RuleImpact, count: int) -> list[tuple[str, list[str], int]]:
    """(what, shown examples, how many in all) for each kind of change of a rule."""
    kinds = [("added", [_example(f) for f in entry.added[:count]], len(entry.added)),
             ("removed", [_example(f) for f in entry.removed[:count]], len(entry.removed)),
             ("severity changed", [_moved(p) for p in entry.severity[:count]],
              len(entry.severity))]
    return [kind for kind in kinds if kind[2]]


def _text(impact: Impact, examples: int) -> str:
    lines = [f"Impact of the rubric change, {impact.before} -> {impact.after}",
             f"The whole knowledge base ({impact.where}) reviewed with each, deterministic "
             "checks only:"]
    lines += ["  " + line for line in _summary(impact)]
    lines.append("")
    rows = _rows(impact)
    if not rows:
        return "\n".join(lines + ["No finding changes."]) + "\n"
    widths = [max(len(r[i]) for r in [HEAD, *rows]) for i in range(len(HEAD))]
    for row in [HEAD, *rows]:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths, strict=True))))
    if examples:
        lines += ["", "Examples:"]
        for entry in impact.changed():
            for what, shown, total in _examples(entry, examples):
                more = f" (of {total})" if total > len(shown) else ""
                lines.append(f"{entry.rule}, {what}{more}:")
                lines += [f"  {line}" for line in shown]
    return "\n".join(lines) + "\n"


def _markdown(impact: Impact, examples: int) -> str:
    from reviewer.render.safe import code, inline

    lines = ["#### Impact of this rubric change", "",
             f"The whole knowledge base reviewed with {inline(impact.before)} and with "
             f"{inline(impact.after)} (deterministic checks only):", ""]
    lines += [f"- {inline(line)}" for line in _summary(impact)]
    lines.append("")
    rows = _rows(impact)
    if not rows:
        return "\n".join(lines + ["No finding changes."]) + "\n"
    lines += ["| " + " | ".join(HEAD) + " |", "|---|" + "---:|" * (len(HEAD) - 1)]
    lines += ["| " + " | ".join([code(r[0]), *r[1:]]) + " |" for r in rows]
    if examples:
        lines += ["", "<details><summary>Examples</summary>", ""]
        for entry in impact.changed():
            for what, shown, total in _examples(entry, examples):
                more = f" ({len(shown)} of {total})" if total > len(shown) else ""
                lines.append(f"- {code(entry.rule)}, {what}{more}:")
                lines += [f"  - {inline(line)}" for line in shown]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def as_dict(impact: Impact, examples: int = 3) -> dict[str, Any]:
    before, after, added, removed, severity = impact.totals()
    return {
        "before": impact.before, "after": impact.after, "where": impact.where,
        "claims": {"before": impact.reviewed[0], "after": impact.reviewed[1]},
        "blocking": {"before": impact.blocking[0], "after": impact.blocking[1]},
        "findings": {"before": before, "after": after, "added": added, "removed": removed,
                     "severity_changed": severity},
        "rules": [{"rule": r.rule, "before": r.before, "after": r.after,
                   "added": len(r.added), "removed": len(r.removed),
                   "severity_changed": len(r.severity),
                   "examples": {what: shown for what, shown, _ in _examples(r, examples)}}
                  for r in impact.changed()],
    }
