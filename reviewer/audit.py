"""`claim-review audit`: the whole base reviewed and counted, in a markdown and a JSON report.

`check` answers "may this change go in?"; an audit answers "what state is the base in, and
is it getting better?". The flow, top to bottom:
  1. the base: every claim, as `check` with no files sees it (`change.from_paths`), or one
     shard of it (`--shard I/N`). A stable hash of each path picks its shard, so a CI matrix
     can split a very large base across runners. Links resolve against the whole base, and
     duplicates are searched among every claim in path order (`ReviewContext.peers`), so the
     shards add up exactly to one whole-base run.
  2. the review: `pipeline.build_review`, deterministic. The judge runs only with --judge
     (the Messages API, as `check` runs it) or --batch (the Message Batches API,
     `reviewer.batch`).
  3. the report: counts per rule and severity, the worst files, the judge's account, and the
     trend per rule against --compare PREVIOUS.json. The JSON is a contract (README, "Audit
     the whole base"); the markdown is rendered from it (`render.audit`), so a merged report
     reads like any other.
  4. --merge: the JSON reports of the shards in, one report out.

Progress goes to stderr: a bar on a terminal (click's, already a dependency), plain lines
in CI logs.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import click

from reviewer import __version__
from reviewer.findings import SEVERITIES
from reviewer.review import USAGE_FIELDS

KIND = "claim-review-audit"
FORMAT = 1
NAME = "claim-review-audit"  # NAME.json and NAME.md in the output folder
STATE_NAME = NAME + ".batch.json"  # the batch being judged, for resuming
WORST = 20
EXIT_INCOMPLETE = 3
NOT_ASKED = "the audit runs the judge only with --judge or --batch"


class AuditError(Exception):
    """A usage problem: a malformed --shard, a report that is not one, shards that do not fit."""


# -- shards ------------------------------------------------------------------------
@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        index, _, count = text.partition("/")
        try:
            shard = cls(int(index), int(count))
        except ValueError:
            shard = None
        if shard is None or not 1 <= shard.index <= shard.count:
            raise AuditError(f"--shard {text!r}: expected I/N with 1 <= I <= N, as in 2/8")
        return shard

    def holds(self, path: str) -> bool:
        return shard_of(path, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def shard_of(path: str, count: int) -> int:
    """The shard (1-based) of a path: a hash that no Python run, machine or version changes
    (the built-in hash() of a string changes between runs)."""
    digest = hashlib.sha256(path.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def restrict(change: Any, shard: Shard) -> None:
    """Keep the shard's claims and notes under review; the other claims become peers."""
    ctx = change.ctx
    ctx.peers = sorted(c.path for c in ctx.claims if not shard.holds(c.path))
    ctx.claims = [c for c in ctx.claims if shard.holds(c.path)]
    change.skipped = [p for p in change.skipped if shard.holds(p)]


# -- progress ------------------------------------------------------------------------
STAGES = {"read": ("reading the base", None), "prepare": ("comparing titles", None),
          "checks": ("checking claims", "claims")}


class LineProgress:
    """CI logs: a plain line when a stage starts, at each tenth of the way, and at its end."""

    def __init__(self, write: Callable[[str], None]):
        self.write = write
        self.stage: str | None = None
        self.shown = -1

    def __call__(self, stage: str, done: int, total: int) -> None:
        label, unit = STAGES.get(stage, (stage, None))
        if stage != self.stage:
            self.stage, self.shown = stage, -1
            if unit is None:
                self.write(f"{label} ...")
        if unit is None:
            return
        tenth = done * 10 // total if total else 10
        if tenth > self.shown:
            self.shown = tenth
            self.write(f"{label}: {done}/{total} {unit} ({tenth * 10}%)")

    def status(self, text: str) -> None:
        self.write(text)

    def close(self) -> None:
        self.stage = None


class BarProgress:
    """A terminal: click's progress bar for counted stages, one rewritten line otherwise."""

    def __init__(self, stream: IO[str]):
        self.stream = stream
        self.stage: str | None = None
        self.bar: Any = None
        self.step = 1
        self.open_line = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        label, unit = STAGES.get(stage, (stage, None))
        if stage != self.stage:
            self.close()
            self.stage = stage
            if unit is None:
                self.status(f"{label} ...")
                return
            self.bar = click.progressbar(length=total, label=label, file=self.stream,
                                         show_pos=True, show_eta=True, width=30)
            self.bar.__enter__()
            self.step = max(1, total // 100)
        if self.bar is not None and (done - self.bar.pos >= self.step or done == total):
            self.bar.update(done - self.bar.pos)

    def status(self, text: str) -> None:
        self._end_bar()
        self.stream.write("\r\x1b[K" + text)
        self.stream.flush()
        self.open_line = True

    def close(self) -> None:
        self._end_bar()
        if self.open_line:
            self.stream.write("\n")
            self.open_line = False
        self.stage = None

    def _end_bar(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def progress_for(stream: IO[str], env: Mapping[str, str] = os.environ) -> Any:
    """Plain lines in CI (CI=true, as GitHub Actions sets it) or when stderr is not a
    terminal; a bar otherwise."""
    ci = env.get("CI", "").strip().lower() not in ("", "0", "false")
    if ci or not stream.isatty():
        return LineProgress(lambda line: click.echo(f"claim-review audit: {line}", file=stream))
    return BarProgress(stream)


# -- the audit -----------------------------------------------------------------------
@dataclass
class AuditOptions:
    root: Path
    rubric: Any  # reviewer.rubric.Rubric
    output_dir: Path
    shard: Shard | None = None
    judge: str = "off"  # off | realtime (--judge) | batch (--batch)
    compare: Path | None = None
    index: Any = None  # reviewer.index.Index
    dry_run: bool = False
    max_requests: int | None = None
    max_cost: float | None = None
    poll_interval: float = 15.0


def run_audit(options: AuditOptions, say: Callable[[str], None], progress: Any) -> int:
    """Review, report, write. The exit code: 0, or 3 when the report is incomplete."""
    from reviewer.batch import BatchJudge, BatchOptions
    from reviewer.change import from_paths, today
    from reviewer.pipeline import build_review

    previous = read_report(options.compare) if options.compare else None
    batch = None
    if options.judge == "batch":
        batch = BatchJudge(BatchOptions(
            state=options.output_dir / STATE_NAME,
            shard=str(options.shard) if options.shard else None, dry_run=options.dry_run,
            max_requests=options.max_requests, max_cost=options.max_cost,
            poll_interval=options.poll_interval, say=say, status=progress.status))
    progress("read", 0, 0)
    change = from_paths(options.root, [], options.rubric, index=options.index)
    if options.shard is not None:
        restrict(change, options.shard)
    judge = batch if batch is not None else (None if options.judge == "realtime" else _no_judge)
    try:
        review = build_review(change, judge=judge, progress=progress)
    finally:
        progress.close()
    if batch is not None and batch.stopped:
        return 0
    extra = batch.info() if batch is not None else {"mode": options.judge}
    report = report_of(review, change, options.shard, extra, today().isoformat())
    if previous is not None:
        report["trend"] = trend(previous, report)
    paths = write_report(report, options.output_dir)
    if batch is not None:
        batch.done()
    for line in summary_lines(report, paths):
        say(line)
    return EXIT_INCOMPLETE if report["incomplete"] else 0


def run_merge(sources: list[Path], output_dir: Path, compare: Path | None,
              say: Callable[[str], None]) -> int:
    previous = read_report(compare) if compare else None
    report = merge_reports([read_report(path) for path in sources])
    if previous is not None:
        report["trend"] = trend(previous, report)
    paths = write_report(report, output_dir)
    for line in summary_lines(report, paths):
        say(line)
    return EXIT_INCOMPLETE if report["incomplete"] else 0


def _no_judge(reports: list, ctx: Any) -> Any:
    from reviewer.judge import JudgeResult, JudgeSummary

    settings = ctx.rubric.judge
    return JudgeResult(JudgeSummary(model=settings.model, required=settings.required,
                                    reason=NOT_ASKED))


# -- the report ----------------------------------------------------------------------
def report_of(review: Any, change: Any, shard: Shard | None, judge_extra: dict[str, Any],
              day: str) -> dict[str, Any]:
    """The JSON report of one audit (the whole base, or one shard)."""
    files = []
    for file in review.files:
        if file.findings:
            counts = Counter(f.severity for f in file.findings)
            files.append({"path": file.path, **{s: counts.get(s, 0) for s in SEVERITIES},
                          "findings": [_finding(f) for f in file.findings]})
    claims, skipped = len(change.ctx.claims), len(change.skipped)
    report = {
        "kind": KIND, "format": FORMAT, "version": __version__, "date": day,
        "rubric": {"files": review.rubric.origin, "digest": review.rubric.digest()},
        "shards": {"count": shard.count if shard else 1, "covered": [shard.index if shard else 1]},
        "incomplete": review.incomplete,
        "summary": {"notes": claims + skipped, "claims": claims, "skipped": skipped,
                    "suppressed": sum(len(f.suppressed) for f in review.files)},
        "judge": _judge(review.judge, judge_extra),
        "notes": list(review.notes),
        "trend": None,
        "files": files,
    }
    return tally(report)


def _finding(finding: Any) -> dict[str, Any]:
    data = finding.to_dict()
    data.pop("status", None)  # an audit has no change: every finding is simply there
    return data


def _judge(summary: Any, extra: dict[str, Any]) -> dict[str, Any]:
    data = summary.to_dict() if summary is not None else {}
    data.pop("notes", None)  # per-claim rationales: the findings carry what failed
    data.pop("recommendations", None)
    return {"mode": "off", "ran": False, "reason": None, "model": None, "required": False,
            "judged": 0, "requests": 0, "cache_hits": 0,
            "usage": dict.fromkeys(USAGE_FIELDS, 0), "cost_usd": 0.0, "errors": [],
            "discount": None, "resumed": False, "estimate": None, "batches": [],
            "left_out": [], **data, **extra}


def tally(report: dict[str, Any]) -> dict[str, Any]:
    """Fill the counts from `files`: by severity, by check, by rule, the worst files."""
    by_rule: dict[str, dict[str, int]] = {}
    by_check: dict[str, dict[str, int]] = {}
    for file in report["files"]:
        for finding in file["findings"]:
            for table, name in ((by_rule, finding["rule"]), (by_check, finding["check"])):
                table.setdefault(name, dict.fromkeys(SEVERITIES, 0))[finding["severity"]] += 1
    summary = report["summary"]
    summary["files_with_findings"] = len(report["files"])
    summary["by_severity"] = {s: sum(f[s] for f in report["files"]) for s in SEVERITIES}
    summary["findings"] = sum(summary["by_severity"].values())
    summary["by_check"] = dict(sorted(by_check.items()))
    report["by_rule"] = {rule: {**counts, "total": sum(counts.values())}
                         for rule, counts in sorted(by_rule.items())}
    ranked = sorted((f for f in report["files"] if f["error"] or f["warning"]),
                    key=lambda f: (-f["error"], -f["warning"], -f["info"], f["path"]))
    report["worst_files"] = [{k: f[k] for k in ("path", *SEVERITIES)} for f in ranked[:WORST]]
    order = ("kind", "format", "version", "date", "rubric", "shards", "incomplete", "summary",
             "by_rule", "worst_files", "judge", "notes", "trend", "files")
    return {key: report[key] for key in order}


def trend(previous: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Per rule and per severity: before, now, delta (now - before)."""
    def totals(report: dict[str, Any]) -> dict[str, int]:
        return {rule: counts["total"] for rule, counts in report["by_rule"].items()}

    def move(before: int, now: int) -> dict[str, int]:
        return {"before": before, "now": now, "delta": now - before}

    before, now = totals(previous), totals(current)
    rules = [{"rule": rule, **move(before.get(rule, 0), now.get(rule, 0))}
             for rule in sorted(set(before) | set(now))]
    rules.sort(key=lambda entry: (-abs(entry["delta"]), entry["rule"]))
    old, new = previous["summary"], current["summary"]
    return {
        "previous": {"date": previous["date"], "version": previous["version"],
                     "rubric_digest": previous["rubric"]["digest"],
                     "shards": previous["shards"]},
        "rubric_changed": previous["rubric"]["digest"] != current["rubric"]["digest"],
        "claims": move(old["claims"], new["claims"]),
        "findings": move(old["findings"], new["findings"]),
        "by_severity": {s: move(old["by_severity"][s], new["by_severity"][s])
                        for s in SEVERITIES},
        "rules": rules,
    }


# -- merging shards ------------------------------------------------------------------
def merge_reports(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """One report from the reports of disjoint shards of the same base and rubric. Missing
    shards make it incomplete; overlapping shards or different rubrics are an error."""
    if not reports:
        raise AuditError("--merge needs at least one report")
    first = reports[0]
    count = first["shards"]["count"]
    covered: list[int] = []
    for report in reports:
        if report["rubric"]["digest"] != first["rubric"]["digest"]:
            raise AuditError("the reports were made with different rubrics (digests "
                             f"{first['rubric']['digest'][:12]} and "
                             f"{report['rubric']['digest'][:12]}): they do not add up")
        if report["shards"]["count"] != count:
            raise AuditError(f"the reports split the base into {count} and "
                             f"{report['shards']['count']} shards: they do not add up")
        twice = set(covered) & set(report["shards"]["covered"])
        if twice:
            raise AuditError(f"shard {min(twice)}/{count} is in more than one report")
        covered += report["shards"]["covered"]
    missing = sorted(set(range(1, count + 1)) - set(covered))
    reasons = [r["incomplete"] for r in reports if r["incomplete"]]
    if missing:
        reasons.insert(0, f"shard{'s' if len(missing) > 1 else ''} "
                          f"{', '.join(map(str, missing))} of {count} missing: the report "
                          "covers part of the base")
    summary = {key: sum(r["summary"][key] for r in reports)
               for key in ("notes", "claims", "skipped", "suppressed")}
    merged = {
        "kind": KIND, "format": FORMAT, "version": __version__,
        "date": max(r["date"] for r in reports), "rubric": first["rubric"],
        "shards": {"count": count, "covered": sorted(covered)},
        "incomplete": "; ".join(reasons) or None,
        "summary": summary,
        "judge": _merge_judges([r["judge"] for r in reports]),
        "notes": list(dict.fromkeys(note for r in reports for note in r["notes"])),
        "trend": None,
        "files": sorted((f for r in reports for f in r["files"]), key=lambda f: f["path"]),
    }
    return tally(merged)


def _merge_judges(judges: list[dict[str, Any]]) -> dict[str, Any]:
    first = judges[0]
    modes = {j["mode"] for j in judges}
    costs = [j["cost_usd"] for j in judges]
    estimates = [j["estimate"] for j in judges if j["estimate"]]
    ran = any(j["ran"] for j in judges)
    return {
        "mode": modes.pop() if len(modes) == 1 else "mixed",
        "ran": ran,
        "reason": None if ran else first["reason"],
        "model": first["model"],
        "required": any(j["required"] for j in judges),
        **{key: sum(j[key] for j in judges) for key in ("judged", "requests", "cache_hits")},
        "usage": {name: sum(j["usage"][name] for j in judges) for name in USAGE_FIELDS},
        "cost_usd": None if None in costs else round(sum(costs), 6),
        "errors": sorted((e for j in judges for e in j["errors"]), key=lambda e: e["path"]),
        "discount": next((j["discount"] for j in judges if j["discount"]), None),
        "resumed": any(j["resumed"] for j in judges),
        "estimate": {key: (None if any(e[key] is None for e in estimates)
                           else round(sum(e[key] for e in estimates), 6))
                     for key in estimates[0]} if estimates else None,
        "batches": [b for j in judges for b in j["batches"]],
        "left_out": sorted((e for j in judges for e in j["left_out"]), key=lambda e: e["path"]),
    }


# -- files ---------------------------------------------------------------------------
def read_report(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AuditError(f"{path}: no such report") from None
    except (OSError, ValueError) as exc:
        raise AuditError(f"{path}: not a readable JSON report ({exc})") from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise AuditError(f"{path}: not a claim-review audit report (no \"kind\": \"{KIND}\")")
    if data.get("format") != FORMAT:
        raise AuditError(f"{path}: audit report format {data.get('format')!r}; this "
                         f"claim-review reads format {FORMAT}")
    return data


def write_report(report: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    from reviewer.render.audit import render_audit
    from reviewer.scrub import scrub_all

    folder.mkdir(parents=True, exist_ok=True)
    data = scrub_all(report)
    paths = (folder / f"{NAME}.json", folder / f"{NAME}.md")
    texts = (json.dumps(data, indent=2, ensure_ascii=False) + "\n", render_audit(data))
    for path, text in zip(paths, texts, strict=True):
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    return paths


def summary_lines(report: dict[str, Any], paths: tuple[Path, Path]) -> list[str]:
    """What the terminal shows: the headline, the worst file, where the reports are."""
    from reviewer.render.audit import headline
    from reviewer.render.parts import count
    from reviewer.render.text import clean

    lines = [headline(report, markup=False)]
    if report["worst_files"]:
        worst = report["worst_files"][0]
        lines.append(f"worst file: {clean(worst['path'])} ({count(worst['error'], 'error')}, "
                     f"{count(worst['warning'], 'warning')})")
    if report["incomplete"]:
        lines.append(f"incomplete: {clean(report['incomplete'])}")
    lines.append(f"wrote {paths[1]} and {paths[0]}")
    return lines
