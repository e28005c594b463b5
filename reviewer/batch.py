"""The LLM judge through the Message Batches API: every claim of an audit, at half the price.

The requests are the judge's own (`judge._job`: same prompt, same schema, same result-cache
key), and each answer goes through the judge's own validation. What differs is the way
they travel: one batch instead of a request per claim, so a whole base is judged without
rate-limit storms, at the batch discount, within 24 hours.

The flow, top to bottom:
  1. plan: the claims whose request the local result cache answers are not sent. The rest
     get an estimate (tokens from characters, about four a token, plus judge.max_tokens
     for each answer; the cost from judge.pricing at the batch discount). The caps
     (--max-requests, by default judge.max_claims; --max-cost) keep the claims that fit,
     in path order; the others are left out, and the report says which. --dry-run stops
     after the estimate.
  2. submit: the state file records each custom_id's claim before the batch is created and
     the batch id as soon as the API gives it, before any polling. An audit interrupted
     after that resumes the same batch instead of paying for it twice. A create whose
     outcome is unknown (a timeout) is never sent again on its own.
  3. poll with backoff until the batch has ended.
  4. collect: a succeeded answer that validates is stored in the result cache and merged
     like any judge answer; an errored, canceled or expired request, or an answer that does
     not validate, is a judge error for its claim. Nothing is guessed, nothing asked twice.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from reviewer.checks import CHECKS
from reviewer.judge import (
    NO_KEY,
    TRANSIENT,
    InvalidAnswer,
    Job,
    JudgeError,
    JudgeResult,
    _cache,
    _job,
    _merge,
    _raw,
    answer_of,
    answer_schema,
    batch_client,
    classify,
    cost,
    system_blocks,
    with_nonce,
)
from reviewer.kb import ReviewContext
from reviewer.review import USAGE_FIELDS, FileReport, JudgeSummary
from reviewer.settings import JudgeSettings

DISCOUNT = 0.5  # batches cost half the Messages API price
CHARS_PER_TOKEN = 4
MAX_REQUESTS_PER_BATCH = 100_000  # the API's limits: 100,000 requests or 256 MB a batch
MAX_BYTES_PER_BATCH = 200_000_000
STATE_KIND = "claim-review-audit-batch"
STATE_FORMAT = 1
COUNTS = ("processing", "succeeded", "errored", "canceled", "expired")  # request_counts
BACKOFF = 1.5  # each poll waits this much longer than the one before ...
MAX_POLL = 300.0  # ... up to five minutes (or --poll-interval, when it is longer)


class BatchError(Exception):
    """The batch cannot go on (its state, or the API stopped answering). Whatever was
    recorded stays in the state file, so the same command resumes it."""


@dataclass
class BatchOptions:
    state: Path  # the state file, in the audit's output folder
    shard: str | None = None  # "I/N": a resumed batch must belong to the same shard
    dry_run: bool = False
    max_requests: int | None = None  # None: judge.max_claims
    max_cost: float | None = None  # USD, at the batch price
    poll_interval: float = 15.0  # seconds before the first poll; it grows by BACKOFF
    say: Callable[[str], None] = print  # the estimate and what was left out
    status: Callable[[str], None] = lambda text: None  # polling progress


@dataclass
class Estimate:
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0  # at most: judge.max_tokens per answer
    cost_usd: float | None = 0.0

    def add(self, params: dict[str, Any], settings: JudgeSettings) -> Estimate:
        """This estimate with one more request."""
        size = len(json.dumps(params, ensure_ascii=False))
        more = Estimate(self.requests + 1, self.input_tokens + size // CHARS_PER_TOKEN + 1,
                        self.output_tokens + settings.max_tokens)
        more.cost_usd = batch_cost(settings, {**dict.fromkeys(USAGE_FIELDS, 0),
                                              "input_tokens": more.input_tokens,
                                              "output_tokens": more.output_tokens})
        return more

    def to_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens, "cost_usd": self.cost_usd}


def batch_cost(settings: JudgeSettings, usage: dict[str, int]) -> float | None:
    full = cost(settings, usage)
    return None if full is None else round(full * DISCOUNT, 6)


def params_of(job: Job) -> dict[str, Any]:
    """The judge's request as a batch entry's params: the Messages API body itself, so the
    SDK's `extra_body` (how the judge sends a temperature) joins the body."""
    params = with_nonce(job.request)
    extra = params.pop("extra_body", None) or {}
    return {**params, **extra}


@dataclass
class BatchJudge:
    """The pipeline's judge for `audit --batch`: (reports, ctx) -> JudgeResult. After the
    call, `info()` is what the audit report says about the batch."""

    options: BatchOptions
    stopped: bool = False  # --dry-run: the estimate was printed, nothing was sent
    resumed: bool = False
    estimate: Estimate | None = None
    left_out: list[dict[str, str]] = field(default_factory=list)  # {path, reason}
    batches: list[dict[str, Any]] = field(default_factory=list)  # {id, requests, counts}
    state: dict[str, Any] | None = None
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # by job key: as sent

    def __post_init__(self) -> None:
        self.state = read_state(self.options.state, self.options.shard)

    def info(self) -> dict[str, Any]:
        return {"mode": "batch", "discount": DISCOUNT, "resumed": self.resumed,
                "estimate": self.estimate.to_dict() if self.estimate else None,
                "batches": self.batches, "left_out": self.left_out}

    def done(self) -> None:
        """The report is written: the batch needs no resuming any more."""
        if self.batches and not self.stopped:
            self.options.state.unlink(missing_ok=True)

    # -- the judge -------------------------------------------------------------
    def __call__(self, reports: list[FileReport], ctx: ReviewContext) -> JudgeResult:
        settings = ctx.rubric.judge
        result = JudgeResult(JudgeSummary(model=settings.model, required=settings.required))
        claims = [r for r in reports if r.claim is not None and r.claim.text]
        key = os.environ.get("ANTHROPIC_API_KEY", "").strip()
        reason = None if settings.enabled else "the rubric turns it off (judge.enabled: false)"
        if reason is None and not claims:
            reason = "there were no claims to judge"
        if reason is None and not key and not self.options.dry_run:
            reason = NO_KEY
        if reason is not None:
            return _not_run(result, reason, needed=bool(claims) and settings.enabled)
        checks = [m.ID for m in CHECKS if ctx.rubric.check_enabled(m.ID)]
        shared = {"system": system_blocks(ctx, settings, checks),
                  "schema": answer_schema(checks)}
        jobs = [_job(report, ctx, settings, checks, shared) for report in claims]
        cache = _cache(settings, ctx)
        answers: dict[str, dict[str, Any] | str] = {}
        for job in jobs:
            cached = cache.get(job) if cache else None
            if cached is not None:
                answers[job.report.path] = cached
        result.summary.cache_hits = len(answers)
        todo = [job for job in jobs if job.report.path not in answers]
        client = None if self.options.dry_run else batch_client(key, settings)
        if self.state is not None and self.options.dry_run:
            self.stopped = True
            self.options.say(f"a batch is recorded in {self.options.state}: the same command "
                             "without --dry-run resumes it; nothing was sent")
            return _not_run(result, "--dry-run: nothing was sent", needed=False)
        if self.state is not None:
            self.resumed = True
            self.options.say(f"resuming the batch recorded in {self.options.state}; "
                             "nothing new is sent")
            sent = self._resume(todo)
        else:
            sent = self._plan(todo, settings, len(answers))
            if self.options.dry_run:
                self.stopped = True
                return _not_run(result, "--dry-run: nothing was sent", needed=False)
            if sent:
                self._submit(client, sent, settings, ctx.rubric.digest())
        usage = dict.fromkeys(USAGE_FIELDS, 0)
        if self.state is not None:
            answers.update(self._collect(client, {job.key: job for job in sent}, settings,
                                         cache, usage))
        judged = [job for job in jobs if job.report.path in answers]
        summary = result.summary
        summary.ran, summary.judged = bool(judged), len(judged)
        summary.requests = sum(b["requests"] for b in self.batches)
        summary.usage, summary.cost_usd = usage, batch_cost(settings, usage)
        _merge(result, settings, judged, [answers[job.report.path] for job in judged])
        self._tell_left_out(result, settings)
        return result

    # -- 1. plan ---------------------------------------------------------------
    def _plan(self, todo: list[Job], settings: JudgeSettings, cached: int) -> list[Job]:
        """The jobs to send: all that fit the caps, in path order; say what it costs."""
        options = self.options
        cap = options.max_requests if options.max_requests is not None else settings.max_claims
        if options.max_cost is not None and settings.model not in settings.pricing:
            raise BatchError(f"--max-cost needs a price, and judge.pricing has none for "
                             f"{settings.model}: add it to the rubric")
        whole, fits, sent = Estimate(), Estimate(), []
        for job in todo:
            self.params[job.key] = params = params_of(job)
            whole = whole.add(params, settings)
            more = fits.add(params, settings)
            over = more.requests > cap or (options.max_cost is not None
                                           and (more.cost_usd or 0) > options.max_cost)
            if over or self.left_out:  # in path order: once one is left out, so is the rest
                self.left_out.append({"path": job.report.path,
                                      "reason": _cap_reason(options, cap)})
            else:
                fits = more
                sent.append(job)
        self.estimate = fits
        say = options.say
        say(f"batch judge: {len(todo) + cached} claims, {cached} answered by the local result "
            f"cache, {len(todo)} to send")
        say("estimate: " + _estimate_line(whole, settings))
        if self.left_out:
            say(f"cap: {_cap_reason(options, cap)}: sending {fits.requests} "
                f"({_money(fits.cost_usd)}); {len(self.left_out)} claims left out, from "
                f"{self.left_out[0]['path']} on")
        if options.dry_run:
            say("dry run: nothing was sent")
        return sent

    # -- 2. submit -------------------------------------------------------------
    def _submit(self, client: Any, jobs: list[Job], settings: JudgeSettings,
                digest: str) -> None:
        """Create the batches; each is recorded before it is created and its id as soon as
        the API answers."""
        self.state = {"kind": STATE_KIND, "format": STATE_FORMAT, "shard": self.options.shard,
                      "model": settings.model, "rubric_digest": digest, "batches": []}
        for group in _groups(jobs, self.params):
            entry = {"id": None, "created": _now(),
                     "requests": {f"claim-{i:06d}": {"path": job.report.path, "key": job.key}
                                  for i, job in group}}
            self.state["batches"].append(entry)
            write_state(self.options.state, self.state)
            requests = [{"custom_id": f"claim-{i:06d}", "params": self.params[job.key]}
                        for i, job in group]
            batch = self._create(client, requests, settings)
            entry["id"] = batch.id
            write_state(self.options.state, self.state)
            self.options.say(f"batch {batch.id}: {len(requests)} requests sent; recorded in "
                             f"{self.options.state}")

    def _create(self, client: Any, requests: list[dict[str, Any]],
                settings: JudgeSettings) -> Any:
        """messages.batches.create, retried only when the API answered that it created
        nothing (429, 5xx); a lost answer leaves the batch's fate unknown, so it stops."""
        for attempt in range(settings.retries + 1):
            try:
                return client.messages.batches.create(requests=requests)
            except Exception as exc:  # noqa: BLE001 - classified below
                kind, problem, wait = classify(exc, settings)
                answered = getattr(exc, "status_code", None) is not None
            if not answered:
                raise BatchError(
                    f"creating the batch failed ({problem}), and it may exist all the same: "
                    f"look for it in the Anthropic Console (Batches) and cancel or collect it "
                    f"there, then delete {self.options.state} to send the claims again")
            if kind != TRANSIENT or attempt == settings.retries:
                self.state["batches"].pop()
                _save_or_remove(self.options.state, self.state)
                raise BatchError(f"the batch was not created: {problem}")
            time.sleep(wait if wait is not None else settings.backoff * 2 ** attempt)
        raise AssertionError("unreachable")

    # -- resuming --------------------------------------------------------------
    def _resume(self, todo: list[Job]) -> list[Job]:
        """The jobs of the recorded batches that still match the claims; the others are
        left out (the next audit sends them)."""
        recorded = {request["key"]: request["path"] for entry in self.state["batches"]
                    for request in entry["requests"].values()}
        paths = set(recorded.values())
        sent = []
        for job in todo:
            if job.key in recorded:
                sent.append(job)
            else:
                why = ("the claim changed after the batch was sent" if job.report.path in paths
                       else "not in the resumed batch")
                self.left_out.append({"path": job.report.path,
                                      "reason": why + "; the next audit sends it"})
        return sent

    # -- 3. poll, 4. collect ---------------------------------------------------
    def _collect(self, client: Any, jobs: dict[str, Job], settings: JudgeSettings,
                 cache: Any, usage: dict[str, int]) -> dict[str, dict[str, Any] | str]:
        answers: dict[str, dict[str, Any] | str] = {}
        for entry in self.state["batches"]:
            counts = self._wait(client, entry["id"], settings)
            self.batches.append({"id": entry["id"], "requests": len(entry["requests"]),
                                 "counts": counts})
            seen = set()
            for line in self._results(client, entry["id"], settings):
                request = entry["requests"].get(line.custom_id)
                job = jobs.get(request["key"]) if request else None
                if job is None:  # not ours, or the claim changed since: left out above
                    continue
                seen.add(line.custom_id)
                answers[job.report.path] = _answer(line.result, job, settings, cache, usage)
            for custom_id, request in entry["requests"].items():
                job = jobs.get(request["key"])
                if custom_id not in seen and job is not None:
                    answers[job.report.path] = f"batch {entry['id']} has no result for it"
        return answers

    def _wait(self, client: Any, batch_id: str, settings: JudgeSettings) -> dict[str, int]:
        """Poll with backoff until the batch has ended; its request counts."""
        delay, started, failures = self.options.poll_interval, time.monotonic(), 0
        while True:
            try:
                batch = client.messages.batches.retrieve(batch_id)
            except Exception as exc:  # noqa: BLE001 - classified below
                failures += 1
                kind, problem, _ = classify(exc, settings)
                if kind != TRANSIENT or failures > settings.retries:
                    raise BatchError(self._stalled(batch_id, problem)) from None
            else:
                failures = 0
                counts = {name: int(getattr(batch.request_counts, name, 0) or 0)
                          for name in COUNTS}
                waited = time.monotonic() - started
                self.options.status(f"batch {batch_id}: {batch.processing_status}, " + ", ".join(
                    f"{n} {name}" for name, n in counts.items() if n) + f" ({waited:.0f}s)")
                if batch.processing_status == "ended":
                    return counts
            time.sleep(delay)
            delay = min(delay * BACKOFF, max(MAX_POLL, self.options.poll_interval))

    def _results(self, client: Any, batch_id: str, settings: JudgeSettings) -> list[Any]:
        for attempt in range(settings.retries + 1):
            try:
                return list(client.messages.batches.results(batch_id))
            except Exception as exc:  # noqa: BLE001 - classified below
                kind, problem, wait = classify(exc, settings)
            if kind != TRANSIENT or attempt == settings.retries:
                raise BatchError(self._stalled(batch_id, f"its results: {problem}"))
            time.sleep(wait if wait is not None else settings.backoff * 2 ** attempt)
        raise AssertionError("unreachable")

    def _stalled(self, batch_id: str, problem: str) -> str:
        return (f"could not follow batch {batch_id} ({problem}); it is recorded in "
                f"{self.options.state}: run the same command again to resume it")

    def _tell_left_out(self, result: JudgeResult, settings: JudgeSettings) -> None:
        if not self.left_out:
            return
        what = (f"{len(self.left_out)} claims were not judged ({self.left_out[0]['reason']}; "
                f"first: {self.left_out[0]['path']})")
        if settings.required:
            result.incomplete = f"the rubric requires the LLM judge, but {what}."
        else:
            result.notes.append(f"The LLM judge (batch): {what}.")


def _answer(result: Any, job: Job, settings: JudgeSettings, cache: Any,
            usage: dict[str, int]) -> dict[str, Any] | str:
    """One batch result: a validated answer (stored in the cache), or an error text."""
    kind = getattr(result, "type", None)
    if kind == "errored":
        error = getattr(getattr(result, "error", None), "error", None)
        return (f"the batch request failed: {getattr(error, 'type', 'error')}: "
                f"{getattr(error, 'message', '')}")
    if kind in ("canceled", "expired"):
        return f"the batch request was {kind} before it ran"
    if kind != "succeeded":
        return f"the batch gave an unknown result type {kind!r}"
    message = result.message
    for name in USAGE_FIELDS:
        usage[name] += int(getattr(message.usage, name, 0) or 0)
    try:
        answer = answer_of(message, job, settings)
    except InvalidAnswer as exc:
        return f"the answer did not validate: {exc}"
    except JudgeError as exc:
        return str(exc)
    if cache is not None:
        cache.put(job, _raw(message))
    return answer


def _not_run(result: JudgeResult, reason: str, needed: bool) -> JudgeResult:
    result.summary.reason = reason
    if result.summary.required and needed:
        result.incomplete = f"the rubric requires the LLM judge, but it did not run: {reason}."
    elif reason == NO_KEY:
        result.notes.append(f"The LLM judge did not run: {reason}; only the deterministic "
                            "checks ran.")
    return result


def _groups(jobs: list[Job], params: dict[str, dict[str, Any]]) -> list[list[tuple[int, Job]]]:
    """The jobs, numbered, in batches within the API's size limits."""
    groups: list[list[tuple[int, Job]]] = [[]]
    size = 0
    for number, job in enumerate(jobs, start=1):
        length = len(json.dumps(params[job.key], ensure_ascii=False)) + 64
        if groups[-1] and (len(groups[-1]) >= MAX_REQUESTS_PER_BATCH
                           or size + length > MAX_BYTES_PER_BATCH):
            groups.append([])
            size = 0
        groups[-1].append((number, job))
        size += length
    return groups


def _cap_reason(options: BatchOptions, cap: int) -> str:
    if options.max_cost is not None:
        return f"--max-requests {cap} and --max-cost ${options.max_cost:g}" \
            if options.max_requests is not None else f"--max-cost ${options.max_cost:g}"
    return f"--max-requests {cap}" if options.max_requests is not None else \
        f"judge.max_claims {cap} (pass --max-requests to send more)"


def _estimate_line(estimate: Estimate, settings: JudgeSettings) -> str:
    return (f"{estimate.requests} requests, ~{estimate.input_tokens:,} input tokens "
            f"({CHARS_PER_TOKEN} characters a token) and at most {estimate.output_tokens:,} "
            f"output tokens ({settings.max_tokens:,} per answer), "
            f"{_money(estimate.cost_usd)} at the batch price "
            f"({DISCOUNT:.0%} of judge.pricing for {settings.model})")


def _money(value: float | None) -> str:
    return "cost unknown (the model has no judge.pricing)" if value is None else f"~${value:.2f}"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the state file ---------------------------------------------------------------
def read_state(path: Path, shard: str | None) -> dict[str, Any] | None:
    """The recorded batch of an interrupted audit, or None. A state this audit cannot
    resume is an error, never silently replaced: replacing it could pay twice."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise BatchError(f"{path}: unreadable batch state ({exc}); delete it only if no batch "
                         "of it is still running") from None
    if not isinstance(data, dict) or data.get("kind") != STATE_KIND \
            or data.get("format") != STATE_FORMAT or not isinstance(data.get("batches"), list):
        raise BatchError(f"{path}: not a batch state of this claim-review version")
    if data.get("shard") != shard:
        raise BatchError(f"{path}: it records a batch of shard {data.get('shard') or 'none'}, "
                         f"not {shard or 'the whole base'}; use that shard's output folder")
    for entry in data["batches"]:
        if not entry.get("id"):
            raise BatchError(
                f"{path}: a batch was being created when the audit stopped "
                f"({entry.get('created')}), and it may exist: look for it in the Anthropic "
                f"Console (Batches) and cancel or collect it there, then delete {path} to "
                "send the claims again")
    return data


def write_state(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _save_or_remove(path: Path, state: dict[str, Any]) -> None:
    if state["batches"]:
        write_state(path, state)
    else:
        path.unlink(missing_ok=True)
