"""Calibration: how far the reviewer agrees with human labels on a gold set (issue 12).

The gold file (examples/gold/gold.yaml documents the format) names a knowledge base and,
per claim, a human `pass` or `fail` for each check and an overall verdict. The claims are
reviewed together against that knowledge base, through the one pipeline, once or
`repeat` times (with the judge, each run asks the model afresh: the local result cache is
turned off). The tool fails a check on a claim when the review has a new finding of that
check at or above the rubric's `verdict.fail_on`; the claim's verdict is the one the
pipeline decides from the same findings.

Per check, `fail` is the positive class: precision, recall and F1 say how well the tool's
failures match the human ones, and Cohen's kappa how far the two agree beyond what their
base rates alone would give. With several runs a claim's outcome is the majority of its
runs (a tie counts as a failure), and the flip rates say how often it changed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewer.checks import BY_ID
from reviewer.findings import RANK, Finding
from reviewer.review import REQUEST_CHANGES, USAGE_FIELDS, Review
from reviewer.rubric import Rubric
from reviewer.yamlload import read_file

GOLD_FILE = "gold.yaml"
LABELS = ("pass", "fail")
GOLD_VERDICTS = {"approve": False, "request_changes": True}  # -> requests changes


class GoldError(Exception):
    """A gold file that cannot be used: a usage error, exit 2."""


# -- the gold set ------------------------------------------------------------------
@dataclass(frozen=True)
class GoldClaim:
    path: str  # as the gold file writes it, relative to the file
    file: Path
    fails: dict[str, bool]  # check -> the human says fail; a check left out is unlabelled
    request_changes: bool
    note: str = ""


@dataclass(frozen=True)
class Gold:
    file: Path
    kb: Path
    claims: list[GoldClaim]


def load_gold(target: Path) -> Gold:
    """The gold file, or the folder that holds gold.yaml."""
    file = target / GOLD_FILE if target.is_dir() else target
    try:
        data = read_file(file)
    except ValueError as exc:
        raise GoldError(f"{file}: the gold file: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("kb"), str) \
            or not isinstance(data.get("claims"), list) or not data["claims"]:
        raise GoldError(f"{file}: a gold file holds 'kb' (a folder) and a list of 'claims'")
    kb = (file.parent / data["kb"]).resolve()
    if not kb.is_dir():
        raise GoldError(f"{file}: 'kb: {data['kb']}' is not a folder")
    claims = [_gold_claim(entry, file, i) for i, entry in enumerate(data["claims"], 1)]
    paths = [c.path for c in claims]
    twice = sorted(p for p, n in Counter(paths).items() if n > 1)
    if twice:
        raise GoldError(f"{file}: {twice[0]} is listed twice")
    return Gold(file, kb, claims)


def _gold_claim(entry: Any, file: Path, number: int) -> GoldClaim:
    where = f"{file}: claim {number}"
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
        raise GoldError(f"{where}: each claim has a 'path'")
    where = f"{file}: {entry['path']}"
    checks = entry.get("checks")
    if not isinstance(checks, dict) or not checks:
        raise GoldError(f"{where}: 'checks' must map checks to pass or fail")
    for check, label in checks.items():
        if check not in BY_ID:
            raise GoldError(f"{where}: unknown check '{check}' (known: {', '.join(BY_ID)})")
        if label not in LABELS:
            raise GoldError(f"{where}: '{check}' must be pass or fail (got {label!r})")
    fails = {check: label == "fail" for check, label in checks.items()}
    verdict = entry.get("verdict", "request_changes" if any(fails.values()) else "approve")
    if verdict not in GOLD_VERDICTS:
        raise GoldError(f"{where}: 'verdict' must be approve or request_changes")
    path = file.parent / entry["path"]
    if not path.is_file():
        raise GoldError(f"{where}: no such file")
    return GoldClaim(entry["path"], path.resolve(), fails, GOLD_VERDICTS[verdict],
                     str(entry.get("note") or ""))


# -- what the tool says -------------------------------------------------------------
@dataclass(frozen=True)
class ToolOutcome:
    """One claim in one run: per check whether it fails, and the rules that made it."""

    rules: dict[str, tuple[str, ...]]  # check -> failing rules (empty: the check passes)
    request_changes: bool

    def fails(self, check: str) -> bool:
        return bool(self.rules.get(check))


def outcomes(review: Review, gold: Gold) -> dict[str, ToolOutcome]:
    """Per gold path, what the review says of the claim."""
    from reviewer.pipeline import counted
    from reviewer.review import decide

    rubric = review.rubric
    by_file = {claim.file: claim.path for claim in gold.claims}
    found: dict[str, ToolOutcome] = {}
    for report in review.files:
        path = _gold_path(report.path, gold, by_file)
        if path is None:
            continue
        new = counted([report], rubric)
        rules: dict[str, list[str]] = {}
        for finding in new:
            if _blocks(finding, rubric):
                rules.setdefault(finding.check, []).append(finding.rule)
        verdict = decide(new, rubric.fail_on)
        found[path] = ToolOutcome({c: tuple(dict.fromkeys(r)) for c, r in rules.items()},
                                  verdict == REQUEST_CHANGES)
    for claim in gold.claims:  # a claim with no report at all had nothing to say
        found.setdefault(claim.path, ToolOutcome({}, False))
    return found


def _blocks(finding: Finding, rubric: Rubric) -> bool:
    return RANK.get(finding.severity, 3) >= RANK[rubric.fail_on]


def _gold_path(shown: str, gold: Gold, by_file: dict[Path, str]) -> str | None:
    """The gold path of a reviewed file: shown relative to the knowledge base when inside
    it, else to the working folder, else absolute."""
    for candidate in (gold.kb / shown, Path.cwd() / shown, Path(shown)):
        path = by_file.get(candidate.resolve())
        if path is not None:
            return path
    return None


def review_gold(gold: Gold, rubric: Rubric, no_llm: bool) -> Review:
    from reviewer.change import from_paths
    from reviewer.pipeline import build_review

    return build_review(from_paths(gold.kb, [c.file for c in gold.claims], rubric), no_llm)


# -- agreement ------------------------------------------------------------------------
@dataclass
class Matrix:
    """A 2x2 confusion matrix, `fail` (or request changes) the positive class."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, human: bool, tool: bool) -> None:
        if human and tool:
            self.tp += 1
        elif tool:
            self.fp += 1
        elif human:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return None if p is None or r is None or p + r == 0 else 2 * p * r / (p + r)

    @property
    def agreement(self) -> float | None:
        return _ratio(self.tp + self.tn, self.n)

    @property
    def kappa(self) -> float | None:
        """Cohen's kappa: (observed - chance agreement) / (1 - chance agreement); None when
        chance agreement is total (both raters gave one same label throughout)."""
        n = self.n
        if n == 0:
            return None
        observed = (self.tp + self.tn) / n
        chance = ((self.tp + self.fp) * (self.tp + self.fn)
                  + (self.fn + self.tn) * (self.fp + self.tn)) / (n * n)
        return None if chance == 1 else (observed - chance) / (1 - chance)

    def as_dict(self) -> dict[str, Any]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn,
                **{k: _round(getattr(self, k))
                   for k in ("precision", "recall", "f1", "kappa", "agreement")}}


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass
class Disagreement:
    path: str
    check: str
    human: bool  # the human says fail (request changes)
    rules: tuple[str, ...]  # what the tool failed it on
    note: str


@dataclass
class Flips:
    """How often an outcome changed between runs: claims whose runs disagree."""

    runs: int
    verdict: list[str] = field(default_factory=list)  # paths
    checks: dict[str, list[str]] = field(default_factory=dict)  # check -> paths
    detail: dict[str, dict[str, list[bool]]] = field(default_factory=dict)  # path -> outcomes


@dataclass
class Calibration:
    gold: Gold
    rubric: Rubric
    checks: dict[str, Matrix]
    verdict: Matrix
    disagreements: list[Disagreement]
    flips: Flips
    judge: dict[str, Any]
    failures: list[str] = field(default_factory=list)  # the gates that failed


def calibrate(gold: Gold, rubric: Rubric, no_llm: bool, repeat: int = 1) -> Calibration:
    """Review the gold claims `repeat` times and measure agreement with the labels."""
    if repeat > 1:  # every run asks the model afresh, or the flips measure the cache
        rubric = rubric.with_overrides(judge_cache=False)
    reviews = [review_gold(gold, rubric, no_llm) for _ in range(repeat)]
    return measure(gold, rubric, [outcomes(r, gold) for r in reviews], judge_spent(reviews))


def measure(gold: Gold, rubric: Rubric, runs: list[dict[str, ToolOutcome]],
            judge: dict[str, Any] | None = None) -> Calibration:
    checks = {check: Matrix() for check in BY_ID}
    verdict = Matrix()
    disagreements: list[Disagreement] = []
    flips = Flips(len(runs), checks={check: [] for check in BY_ID})
    for claim in gold.claims:
        mine = [run[claim.path] for run in runs]
        tool_verdict = _majority([o.request_changes for o in mine])
        verdict.add(claim.request_changes, tool_verdict)
        if len({o.request_changes for o in mine}) > 1:
            flips.verdict.append(claim.path)
            flips.detail.setdefault(claim.path, {})["verdict"] = [o.request_changes
                                                                  for o in mine]
        for check in BY_ID:
            seen = [o.fails(check) for o in mine]
            if len(set(seen)) > 1:
                flips.checks[check].append(claim.path)
                flips.detail.setdefault(claim.path, {})[check] = seen
            if check not in claim.fails:
                continue
            tool = _majority(seen)
            checks[check].add(claim.fails[check], tool)
            if tool != claim.fails[check]:
                rules = tuple(dict.fromkeys(r for o in mine for r in o.rules.get(check, ())))
                disagreements.append(Disagreement(claim.path, check, claim.fails[check],
                                                  rules, claim.note))
    return Calibration(gold, rubric, checks, verdict, disagreements, flips, judge or {})


def _majority(values: list[bool]) -> bool:
    """Fails when at least half the runs fail: a tie is resolved towards the failure."""
    return bool(values) and 2 * sum(values) >= len(values)


def judge_spent(reviews: list[Review]) -> dict[str, Any]:
    """What the judge did over every run: requests, tokens and the estimated cost."""
    summaries = [r.judge for r in reviews if r.judge is not None]
    ran = [s for s in summaries if s.ran]
    usage = {key: sum(s.usage.get(key, 0) for s in ran) for key in USAGE_FIELDS}
    costs = [s.cost_usd for s in ran]
    return {
        "ran": bool(ran),
        "reason": None if ran else (summaries[0].reason if summaries else None),
        "model": summaries[0].model if summaries else None,
        "runs": len(ran),
        "requests": sum(s.requests for s in ran),
        "cache_hits": sum(s.cache_hits for s in ran),
        "errors": sum(len(s.errors) for s in ran),
        "usage": usage,
        "cost_usd": None if any(c is None for c in costs) else round(float(sum(costs)), 6),
    }


def gate(result: Calibration, min_kappa: float | None, min_recall: float | None) -> list[str]:
    """One sentence per check below a threshold; kappa or recall that cannot be computed
    (no human failure to recall, or a single label throughout) is below it too."""
    failures = []
    for check, matrix in result.checks.items():
        if matrix.n == 0:
            continue
        for name, least, value in (("kappa", min_kappa, matrix.kappa),
                                   ("recall", min_recall, matrix.recall)):
            if least is None:
                continue
            if value is None:
                failures.append(f"{check}: {name} cannot be computed on this gold set "
                                f"(--min-{name} {least:g})")
            elif value < least:
                failures.append(f"{check}: {name} {value:.2f} is below --min-{name} {least:g}")
    result.failures = failures
    return failures


# -- output ---------------------------------------------------------------------------
def as_dict(result: Calibration, shown_gold: str, shown_kb: str) -> dict[str, Any]:
    flips = result.flips
    total = len(result.gold.claims)
    return {
        "gold": shown_gold,
        "kb": shown_kb,
        "claims": total,
        "runs": flips.runs,
        "rubric": {"files": result.rubric.origin, "digest": result.rubric.digest(),
                   "fail_on": result.rubric.fail_on},
        "judge": result.judge,
        "checks": {check: m.as_dict() for check, m in result.checks.items()},
        "verdict": result.verdict.as_dict(),
        "disagreements": [{"path": d.path, "check": d.check,
                           "human": "fail" if d.human else "pass",
                           "tool": "pass" if d.human else "fail",
                           "rules": list(d.rules), "note": d.note}
                          for d in result.disagreements],
        "flips": {"verdict": _rate(len(flips.verdict), total),
                  "checks": {c: _rate(len(p), total) for c, p in flips.checks.items()},
                  "claims": [{"path": p, **{k: ["fail" if v else "pass" for v in seen]
                                           for k, seen in d.items()}}
                             for p, d in sorted(flips.detail.items())]},
        "gate": {"passed": not result.failures, "failures": result.failures},
    }


def _rate(count: int, total: int) -> dict[str, Any]:
    return {"claims": count, "rate": _round(count / total if total else 0.0)}


def render_text(result: Calibration, shown_gold: str, shown_kb: str) -> str:
    total = len(result.gold.claims)
    judge = result.judge
    how = "with the LLM judge" if judge.get("ran") else "deterministic checks only"
    runs = f", {result.flips.runs} runs" if result.flips.runs > 1 else ""
    lines = [f"Calibration: {total} claims of {shown_gold} against {shown_kb} ({how}{runs}; "
             f"a check fails on a new finding at or above {result.rubric.fail_on})", ""]
    lines += table(result)
    lines.append("")
    if judge.get("ran"):
        lines += [_judge_line(judge), ""]
    elif judge.get("reason") and judge["reason"] != "--no-llm was given":
        lines += [f"The LLM judge did not run: {judge['reason']}.", ""]
    if result.flips.runs > 1:
        lines += _flip_lines(result.flips, total) + [""]
    lines += _disagreement_lines(result.disagreements)
    if result.failures:
        lines += [""] + [f"gate failed: {failure}" for failure in result.failures]
    return "\n".join(lines).rstrip("\n") + "\n"


def table(result: Calibration, markdown: bool = False) -> list[str]:
    """The per-check table (and the verdict's row)."""
    head = ["check", "TP", "FP", "FN", "TN", "precision", "recall", "F1", "kappa"]
    rows = [[check, *_cells(m)] for check, m in result.checks.items()]
    rows.append(["verdict", *_cells(result.verdict)])
    agreement = result.verdict.agreement
    foot = f"Verdict agreement: {_pct(agreement)} ({result.verdict.tp + result.verdict.tn} " \
           f"of {result.verdict.n} claims)"
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
        out += ["| " + " | ".join(f"`{r[0]}`" if i == 0 else c for i, c in enumerate(r))
                + " |" for r in rows]
        return out + ["", foot + "."]
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    out = ["  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                     for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()
           for r in [head, *rows]]
    return out + ["", foot]


def _cells(m: Matrix) -> list[str]:
    return [str(m.tp), str(m.fp), str(m.fn), str(m.tn),
            *(_num(v) for v in (m.precision, m.recall, m.f1, m.kappa))]


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _judge_line(judge: dict[str, Any]) -> str:
    usage = judge["usage"]
    cost = "no cost estimate for this model" if judge["cost_usd"] is None \
        else f"about ${judge['cost_usd']:.4f}"
    return (f"judge {judge['model']}: {judge['requests']} requests over {judge['runs']} "
            f"run(s), {usage['input_tokens']:,} input and {usage['output_tokens']:,} output "
            f"tokens, {usage['cache_read_input_tokens']:,} read from and "
            f"{usage['cache_creation_input_tokens']:,} written to the prompt cache, "
            f"{judge['cache_hits']} answers from the local cache, {judge['errors']} errors; "
            f"{cost}")


def _flip_lines(flips: Flips, total: int) -> list[str]:
    lines = [f"Flips over {flips.runs} runs (claims whose outcome changed between runs):",
             f"  verdict: {len(flips.verdict)} of {total} ({_pct(len(flips.verdict) / total)})"]
    lines += [f"  {check}: {len(paths)} of {total} ({_pct(len(paths) / total)})"
              for check, paths in flips.checks.items()]
    for path, detail in sorted(flips.detail.items()):
        seen = "; ".join(f"{k} {','.join('fail' if v else 'pass' for v in runs)}"
                         for k, runs in detail.items())
        lines.append(f"  {path}: {seen}")
    return lines


def _disagreement_lines(disagreements: list[Disagreement]) -> list[str]:
    if not disagreements:
        return ["No disagreements: the tool and the labels agree on every check."]
    lines = [f"Disagreements ({len(disagreements)}), by path:"]
    by_path: dict[str, list[Disagreement]] = {}
    for d in disagreements:
        by_path.setdefault(d.path, []).append(d)
    for path, found in sorted(by_path.items()):
        lines.append(path)
        for d in found:
            if d.human:
                lines.append(f"  {d.check}: missed (human fail, tool pass)")
            else:
                lines.append(f"  {d.check}: false alarm (human pass, tool fail: "
                             f"{', '.join(d.rules)})")
        if found[0].note:
            lines.append(f"  label note: {found[0].note}")
    return lines
