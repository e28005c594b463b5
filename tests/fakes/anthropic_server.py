"""A fake Anthropic Messages API on 127.0.0.1 that the real `anthropic` client talks to
through `base_url`.

It records every request (JSON body, headers, start and end times), answers each from a
script (a queue of replies, else a default responder), counts concurrent requests, and
reports usage the way the API does, prompt caching included: the system prefix up to the
last `cache_control` breakpoint is written to the cache by the first request that
carries it and read from it by every later one.

It also serves the Message Batches endpoints (create, retrieve, results): a batch answers
`in_progress` to its first `batch_polls` retrieves, then ends; its results come from
`batch_result(custom_id, params)` (every answer passing, by default), in reverse order of
the requests, as the API does not promise any order. Params the Messages API does not take
are an errored result, as the API would answer them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MIN_CACHEABLE_TOKENS = 512  # Claude Sonnet 5.5: shorter prefixes are not cached
BATCHES = "/v1/messages/batches"
CUSTOM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# what a batch request's params may hold: the Messages API's body, never client-only options
MESSAGE_PARAMS = {"model", "max_tokens", "messages", "system", "metadata", "stop_sequences",
                  "temperature", "top_k", "top_p", "tools", "tool_choice", "thinking",
                  "output_config", "service_tier"}


@dataclass
class Reply:
    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering; past the client's timeout it is a hang
    trickle: float = 0.0  # seconds between bytes of the body: each read is quick, the whole slow


@dataclass
class Seen:
    body: dict[str, Any]
    headers: dict[str, str]
    started: float
    finished: float | None = None
    usage: dict[str, int] | None = None

    @property
    def raw_text(self) -> str:
        content = self.body["messages"][-1]["content"]
        return content if isinstance(content, str) else "".join(b["text"] for b in content)

    @property
    def nonce(self) -> str:
        found = re.search(r"untrusted blocks are tagged untrusted_([0-9a-f]{12})_", self.raw_text)
        return found.group(1) if found else ""

    @property
    def user_text(self) -> str:
        """The message with its per-request tag nonce taken out, so tests read the block
        structure: `<untrusted_claim ...>` is a real tag, `&lt;untrusted_claim` escaped text."""
        return self.raw_text.replace(f"untrusted_{self.nonce}_", "untrusted_") \
            if self.nonce else self.raw_text


Script = Reply | Callable[[dict[str, Any]], Reply]


@dataclass
class FakeBatch:
    id: str
    requests: list[dict[str, Any]]  # [{custom_id, params}]
    polls_left: int  # retrieves still to answer in_progress
    results: list[dict[str, Any]] | None = None  # once ended: one line each


class FakeAnthropic:
    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.script: deque[Script] = deque()
        self.responder: Callable[[dict[str, Any]], Reply] = passing
        self.in_flight = 0
        self.max_in_flight = 0
        self._cached: set[str] = set()
        # the Message Batches API
        self.batches: dict[str, FakeBatch] = {}
        self.batch_calls: list[tuple[str, str]] = []  # (method, path) of every batch call
        self.batch_script: deque[Reply] = deque()  # replies to the next batch calls
        self.batch_polls = 1
        self.batch_result: Callable[[str, dict[str, Any]], dict[str, Any]] = \
            lambda custom_id, params: succeeded(passing(params))
        self._ids = itertools.count(1)
        self._lock = threading.RLock()  # a batch ending computes usage under the lock
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> FakeAnthropic:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                if self.path.startswith(BATCHES):
                    fake._batch(self, "POST")
                else:
                    fake._handle(self)

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                fake._batch(self, "GET")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()  # wakes every hanging handler
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def push(self, *replies: Script) -> None:
        """Answer the next requests with these, in order; then the default responder."""
        self.script.extend(replies)

    # -- one request -----------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length", 0))
        body = json.loads(handler.rfile.read(length) or b"{}")
        seen = Seen(body, dict(handler.headers), time.monotonic())
        with self._lock:
            self.requests.append(seen)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            script = self.script.popleft() if self.script else self.responder
        try:
            reply = script(body) if callable(script) else script
            if reply.delay:
                self._stop.wait(reply.delay)
            payload = dict(reply.body or {})
            if reply.status == 200 and payload.get("type") == "message":
                payload.setdefault("model", body.get("model"))
                payload["usage"] = seen.usage = self._usage(body, payload)
            data = json.dumps(payload).encode()
            handler.send_response(reply.status)
            handler.send_header("content-type", "application/json")
            handler.send_header("content-length", str(len(data)))
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            if reply.trickle:
                for i in range(len(data)):
                    if self._stop.wait(reply.trickle):
                        break
                    handler.wfile.write(data[i:i + 1])
                    handler.wfile.flush()
            else:
                handler.wfile.write(data)
            if reply.status == 200:
                self._remember(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a hang past its timeout)
        finally:
            seen.finished = time.monotonic()
            with self._lock:
                self.in_flight -= 1

    # -- the Message Batches API -----------------------------------------------
    @property
    def creates(self) -> list[FakeBatch]:
        """Every batch created, in order."""
        return list(self.batches.values())

    def _batch(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("content-length", 0) or 0)
        body = json.loads(handler.rfile.read(length) or b"{}") if method == "POST" else {}
        path = handler.path.split("?", 1)[0]
        with self._lock:
            self.batch_calls.append((method, path))
            scripted = self.batch_script.popleft() if self.batch_script else None
        if scripted is not None:
            _send(handler, scripted.status, scripted.body or {}, scripted.headers)
            return
        parts = path[len(BATCHES):].strip("/").split("/")
        batch = self.batches.get(parts[0]) if parts[0] else None
        if method == "POST" and parts == [""]:
            status, payload = self._create(body)
        elif batch is None:
            status, payload = 404, _error_body("not_found_error", f"no batch {parts[0]!r}")
        elif method == "GET" and len(parts) == 1:
            status, payload = 200, self._retrieve(batch)
        elif method == "GET" and parts[1:] == ["results"] and batch.results is not None:
            lines = "".join(json.dumps(line) + "\n" for line in reversed(batch.results))
            _send(handler, 200, lines.encode(), {}, "application/binary")
            return
        else:
            status, payload = 404, _error_body("not_found_error", f"no route {method} {path}")
        _send(handler, status, payload)

    def _create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        requests = body.get("requests")
        if not isinstance(requests, list) or not requests:
            return 400, _error_body("invalid_request_error", "requests: a non-empty list")
        ids = [r.get("custom_id") for r in requests]
        if not all(isinstance(i, str) and CUSTOM_ID.fullmatch(i) for i in ids) \
                or len(set(ids)) != len(ids):
            return 400, _error_body("invalid_request_error", "custom_id: unique, [A-Za-z0-9_-]")
        with self._lock:
            batch = FakeBatch(f"msgbatch_fake{next(self._ids):04d}", requests, self.batch_polls)
            self.batches[batch.id] = batch
        return 200, self._retrieve(batch, poll=False)

    def _retrieve(self, batch: FakeBatch, poll: bool = True) -> dict[str, Any]:
        with self._lock:
            if poll and batch.results is None:
                if batch.polls_left > 0:
                    batch.polls_left -= 1
                else:
                    batch.results = [{"custom_id": r["custom_id"],
                                      "result": self._result(r["custom_id"], r["params"])}
                                     for r in batch.requests]
        counts = dict.fromkeys(("processing", "succeeded", "errored", "canceled", "expired"), 0)
        if batch.results is None:
            counts["processing"] = len(batch.requests)
        else:
            for line in batch.results:
                counts[line["result"]["type"]] += 1
        ended = batch.results is not None
        return {"id": batch.id, "type": "message_batch",
                "processing_status": "ended" if ended else "in_progress",
                "request_counts": counts, "created_at": "2026-06-01T00:00:00Z",
                "expires_at": "2026-06-02T00:00:00Z",
                "ended_at": "2026-06-01T00:10:00Z" if ended else None,
                "archived_at": None, "cancel_initiated_at": None,
                "results_url": f"{self.url}{BATCHES}/{batch.id}/results" if ended else None}

    def _result(self, custom_id: str, params: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(params) - MESSAGE_PARAMS)
        if unknown:
            return errored("invalid_request_error", f"{unknown[0]}: Extra inputs are not permitted")
        result = self.batch_result(custom_id, params)
        if result["type"] == "succeeded":
            message = result["message"]
            message.setdefault("model", params.get("model"))
            message["usage"] = self._usage(params, message)
            self._remember(params)
        return result

    def _usage(self, body: dict[str, Any], reply: dict[str, Any]) -> dict[str, int]:
        key, cached = _prefix(body)
        system = _system(body)
        usage = {"input_tokens": tokens(body.get("messages", [])),
                 "output_tokens": tokens(reply.get("content", [])),
                 "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}
        usage["input_tokens"] += (tokens([b.get("text", "") for b in system]) if system else 0) \
            - (cached if key is not None else 0)
        if key in self._cached:
            usage["cache_read_input_tokens"] = cached
        elif key is not None:
            usage["cache_creation_input_tokens"] = cached
        return usage

    def _remember(self, body: dict[str, Any]) -> None:
        key, _ = _prefix(body)
        if key is not None:
            with self._lock:
                self._cached.add(key)


def tokens(value: Any) -> int:
    """About four characters a token, as English text goes."""
    return max(1, len(json.dumps(value, ensure_ascii=False)) // 4)


def _system(body: dict[str, Any]) -> list[dict[str, Any]]:
    system = body.get("system") or []
    return [{"type": "text", "text": system}] if isinstance(system, str) else system


def _prefix(body: dict[str, Any]) -> tuple[str | None, int]:
    """The cache key and size of the system prefix up to its last breakpoint; the key is
    None when there is no breakpoint or the prefix is too short to be cached."""
    system = _system(body)
    marks = [i for i, block in enumerate(system) if block.get("cache_control")]
    if not marks:
        return None, 0
    cached = system[: marks[-1] + 1]
    size = tokens([b.get("text", "") for b in cached])
    if size < MIN_CACHEABLE_TOKENS:
        return None, size
    prefix = [body.get("model"), body.get("tools"), cached]
    return hashlib.sha256(json.dumps(prefix, sort_keys=True).encode()).hexdigest(), size


def _error_body(kind: str, words: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": words}}


def _send(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any] | bytes,
          headers: dict[str, str] | None = None, kind: str = "application/json") -> None:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("content-type", kind)
    handler.send_header("content-length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


# -- replies -----------------------------------------------------------------
def criteria_of(body: dict[str, Any]) -> list[str]:
    """The criteria the request's output schema asks for."""
    schema = body["output_config"]["format"]["schema"]
    return list(schema["properties"]["criteria"]["required"])


def answer(body: dict[str, Any], recommendation: str = "approve",
           **overrides: dict[str, Any]) -> dict[str, Any]:
    """A valid judge answer: every criterion passes, except what `overrides` changes."""
    entries = {}
    for check in criteria_of(body):
        entries[check] = {"verdict": "pass", "severity": "info",
                          "rationale": f"The claim meets the {check} criterion.", "quote": ""}
        if check == "duplication":
            entries[check]["duplicate_of"] = ""
        entries[check].update(overrides.get(check, {}))
    return {"criteria": entries, "recommendation": recommendation}


def message(content: list[dict[str, Any]], stop_reason: str = "end_turn") -> Reply:
    return Reply(body={"id": "msg_fake", "type": "message", "role": "assistant",
                       "content": content, "stop_reason": stop_reason,
                       "stop_sequence": None})


def structured(data: Any, stop_reason: str = "end_turn") -> Reply:
    """The structured output: one text block holding the JSON."""
    return message([{"type": "text", "text": json.dumps(data)}], stop_reason)


def text(words: str, stop_reason: str = "end_turn") -> Reply:
    return message([{"type": "text", "text": words}], stop_reason)


def passing(body: dict[str, Any]) -> Reply:
    return structured(answer(body))


def error(status: int, kind: str, words: str = "scripted failure",
          retry_after: str | None = None) -> Reply:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return Reply(status, {"type": "error", "error": {"type": kind, "message": words}}, headers)


def hang(seconds: float) -> Reply:
    """Answers only after `seconds`: past the client's timeout, it never answers at all."""
    reply = message([{"type": "text", "text": "{}"}])
    reply.delay = seconds
    return reply


# -- batch results ---------------------------------------------------------------
def succeeded(reply: Reply) -> dict[str, Any]:
    """A batch result holding the message `reply` carries (structured(...), text(...))."""
    return {"type": "succeeded", "message": dict(reply.body or {})}


def errored(kind: str = "api_error", words: str = "scripted failure") -> dict[str, Any]:
    return {"type": "errored", "error": _error_body(kind, words)}


def expired() -> dict[str, Any]:
    return {"type": "expired"}
