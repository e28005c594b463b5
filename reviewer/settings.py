"""The typed sections of a rubric, each validated once when the rubric is loaded.

`rubric.py` loads, merges and checks the shape of a rubric (known keys, value kinds);
the builders here check what the shape cannot say (ranges, choices, cross-field rules)
and hand out frozen dataclasses. Every error names the rubric file and the dotted key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reviewer.findings import OFF, SEVERITIES
from reviewer.protocol import KEY_RULE, valid_key


class RubricError(Exception):
    """A rubric that cannot be used. Always names the file and the key."""


LEVELS = (*SEVERITIES, OFF)
FAIL_ON = ("error", "warning")
VERDICT_COUNT = ("new", "all")
POST_AS = ("review", "comment")
GITHUB_BODY_LIMIT = 65536  # GitHub refuses longer review and comment bodies
MAX_BODY_CHARS = (2000, GITHUB_BODY_LIMIT - 1000)  # github.max_body_chars: least, most
PRICES = ("input", "output", "cache_read", "cache_write")
JUDGE_NUMBERS = {"max_tokens": 1, "thinking_budget": 0, "concurrency": 1, "timeout": 0.001,
                 "retries": 0, "backoff": 0, "time_budget": 0.001, "max_claim_chars": 1,
                 "max_claims": 1, "context_chars": 0}
JUDGE_CHOICES = {"thinking": ("off", "adaptive", "budget"),
                 "effort": (None, "low", "medium", "high", "xhigh", "max")}


def _fail(where: str, key: str, expected: str, got: Any) -> RubricError:
    return RubricError(f"{where}: '{key}' must be {expected} (got {got!r})")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def choice(where: str, key: str, value: Any, choices: tuple) -> Any:
    if value not in choices:
        shown = ", ".join("null" if c is None else str(c) for c in choices)
        raise _fail(where, key, f"one of {shown}", value)
    return value


def number(where: str, key: str, value: Any, least: float | None = None,
           most: float | None = None) -> Any:
    if not _is_number(value) or (least is not None and value < least) \
            or (most is not None and value > most):
        if least is not None and most is not None:
            expected = f"a number from {least:g} to {most:g}"
        elif least is not None:
            expected = f"a number of at least {least:g}"
        else:
            expected = "a number"
        raise _fail(where, key, expected, value)
    return value


@dataclass(frozen=True)
class ReviewerSettings:
    name: str
    key: str

    @classmethod
    def from_data(cls, data: dict[str, Any], where: str) -> ReviewerSettings:
        key = data["key"]
        if not valid_key(key):
            raise RubricError(f"{where}: 'reviewer.key' {key!r} is not a valid reviewer key: "
                              f"use {KEY_RULE}, as the verdict marker requires")
        return cls(name=str(data["name"]), key=key)


@dataclass(frozen=True)
class Reviewer:
    """One reviewer of the rubric's `reviewers:` list (or the single `reviewer:`)."""

    name: str
    key: str
    required: bool = True
    domains: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    branches: tuple[str, ...] = ()
    focus: str = ""
    model: str | None = None
    context: bool = False

    @property
    def covers_all(self) -> bool:
        return not (self.domains or self.paths or self.branches)

    def applies(self, paths: list[str], domains: set[str] | None, branch: str) -> bool:
        """Whether a change touching `paths` (claims of `domains`; None: unknown) on
        `branch` is this reviewer's to review."""
        from reviewer.globs import matches

        if self.covers_all:
            return True
        return (any(branch.startswith(prefix) for prefix in self.branches)
                or any(matches(path, self.paths) for path in paths)
                or bool(domains and set(self.domains) & domains))

    @classmethod
    def from_data(cls, item: Any, where: str, index: int) -> Reviewer:
        at = f"reviewers[{index}]"
        if not isinstance(item, dict):
            raise _fail(where, at, "a mapping (name, key, required, covers, focus, model)",
                        item)
        unknown = set(item) - {"name", "key", "required", "covers", "focus", "model",
                               "context"}
        if unknown:
            raise RubricError(f"{where}: unknown key '{at}.{sorted(unknown)[0]}' (known here: "
                              "context, covers, focus, key, model, name, required)")
        key = item.get("key")
        if not valid_key(key):
            raise RubricError(f"{where}: '{at}.key' {key!r} is not a valid reviewer key: use "
                              f"{KEY_RULE}, as the verdict marker requires")
        covers = item.get("covers") or {}
        if not isinstance(covers, dict) or set(covers) - {"domains", "paths", "branches"}:
            raise _fail(where, f"{at}.covers", "a mapping of domains, paths and branches",
                        covers)
        lists = {}
        for part in ("domains", "paths", "branches"):
            value = covers.get(part) or []
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise _fail(where, f"{at}.covers.{part}", "a list of strings", value)
            lists[part] = tuple(value)
        for name, kind in (("name", str), ("focus", str), ("required", bool),
                           ("context", bool)):
            if name in item and not isinstance(item[name], kind):
                raise _fail(where, f"{at}.{name}", kind.__name__, item[name])
        model = item.get("model")
        if model is not None and (not isinstance(model, str) or not model.strip()):
            raise _fail(where, f"{at}.model", "a model name or null", model)
        return cls(name=str(item.get("name") or key), key=key,
                   required=item.get("required", True), focus=item.get("focus", ""),
                   model=model, context=item.get("context", False), **lists)


@dataclass(frozen=True)
class VerdictSettings:
    fail_on: str  # the lowest severity that requests changes
    count: str  # new: only what the change introduces blocks; all: existing findings too

    @classmethod
    def from_data(cls, data: dict[str, Any], where: str) -> VerdictSettings:
        return cls(fail_on=choice(where, "verdict.fail_on", data["fail_on"], FAIL_ON),
                   count=choice(where, "verdict.count", data["count"], VERDICT_COUNT))


@dataclass(frozen=True)
class GitHubSettings:
    """The rubric's `github:` section (rubrics/default.yaml documents each key)."""

    post_as: str
    inline_comments: int
    suggestions: bool
    max_body_chars: int
    trusted: tuple[str, ...]
    protected: tuple[str, ...]
    territories: dict[str, tuple[str, ...]]
    trust_unsigned_actions_bot: bool = False  # accept unsigned github-actions[bot] verdicts

    @classmethod
    def from_data(cls, data: dict[str, Any], where: str) -> GitHubSettings:
        post_as = choice(where, "github.post_as", data["post_as"], POST_AS)
        limit = data["max_body_chars"]
        if not isinstance(limit, int) or isinstance(limit, bool):
            raise _fail(where, "github.max_body_chars", "a whole number", limit)
        number(where, "github.max_body_chars", limit, *MAX_BODY_CHARS)
        inline = data["inline_comments"]
        if not isinstance(inline, int) or isinstance(inline, bool) or inline < 0:
            raise _fail(where, "github.inline_comments", "a whole number, 0 or more", inline)
        for key in ("trusted", "protected"):
            if not all(isinstance(v, str) and v for v in data[key] or []):
                raise _fail(where, f"github.{key}", "a list of non-empty strings", data[key])
        territories = {}
        for prefix, globs in (data["territories"] or {}).items():
            if not isinstance(globs, list) or not all(isinstance(g, str) and g for g in globs):
                raise _fail(where, f"github.territories.{prefix}", "a list of path globs", globs)
            territories[str(prefix)] = tuple(globs)
        unsigned_bot = data["trust_unsigned_actions_bot"]
        if not isinstance(unsigned_bot, bool):
            raise _fail(where, "github.trust_unsigned_actions_bot", "true or false",
                        unsigned_bot)
        return cls(post_as=post_as, inline_comments=inline,
                   suggestions=bool(data["suggestions"]), max_body_chars=limit,
                   trusted=tuple(data["trusted"] or ()), protected=tuple(data["protected"] or ()),
                   territories=territories, trust_unsigned_actions_bot=unsigned_bot)


@dataclass(frozen=True)
class DocumentType:
    """A declared type of note other than the claim (rubric `types.<name>`)."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    enums: dict[str, tuple[str, ...]]
    checks: tuple[str, ...]  # checks that apply besides the schema

    @classmethod
    def from_data(cls, name: str, spec: Any, where: str, check_ids: list[str]) -> DocumentType:
        key = f"types.{name}"
        if not isinstance(spec, dict):
            raise _fail(where, key, "a mapping (required, optional, enums, checks)", spec)
        unknown = set(spec) - {"required", "optional", "enums", "checks"}
        if unknown:
            raise RubricError(f"{where}: unknown key '{key}.{sorted(unknown)[0]}' (known here: "
                              "checks, enums, optional, required)")
        lists = {}
        for part in ("required", "optional", "checks"):
            value = spec.get(part) or []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise _fail(where, f"{key}.{part}", "a list of strings", value)
            lists[part] = tuple(value)
        for check in lists["checks"]:
            if check not in check_ids or check == "schema":
                raise RubricError(f"{where}: '{key}.checks' names {check!r}; use checks other "
                                  f"than schema, which always applies ({', '.join(check_ids)})")
        enums = spec.get("enums") or {}
        if not isinstance(enums, dict) or not all(
                isinstance(v, list) and v and all(isinstance(x, str) for x in v)
                for v in enums.values()):
            raise _fail(where, f"{key}.enums", "a mapping of field to a list of values", enums)
        return cls(name, lists["required"], lists["optional"],
                   {str(f): tuple(v) for f, v in enums.items()}, lists["checks"])


@dataclass(frozen=True)
class JudgeSettings:
    """The rubric's `judge:` section: the LLM judge's model, limits and criteria."""

    enabled: bool
    required: bool
    model: str
    max_tokens: int
    temperature: float | None
    thinking: str
    thinking_budget: int
    effort: str | None
    concurrency: int
    timeout: float
    retries: int
    backoff: float
    time_budget: float
    max_claim_chars: int
    max_claims: int
    cache: bool
    cache_dir: str
    focus: str
    context_domains: tuple[str, ...]
    context_chars: int
    severity: dict[str, str]
    confirmed_duplicate: str
    criteria: dict[str, str]
    pricing: dict[str, dict[str, float]]

    @classmethod
    def from_data(cls, data: dict[str, Any], where: str,
                  check_ids: list[str]) -> JudgeSettings:
        for key, least in JUDGE_NUMBERS.items():
            number(where, f"judge.{key}", data[key], least)
        for key, choices in JUDGE_CHOICES.items():
            choice(where, f"judge.{key}", data[key], choices)
        if data["required"] and not data["enabled"]:
            raise RubricError(f"{where}: 'judge.required' is true but 'judge.enabled' is "
                              "false: no review could pass")
        if not isinstance(data["model"], str) or not data["model"].strip():
            raise _fail(where, "judge.model", "a model name", data["model"])
        if data["temperature"] is not None and not _is_number(data["temperature"]):
            raise _fail(where, "judge.temperature", "a number or null", data["temperature"])
        if data["thinking"] == "budget" and \
                not 1024 <= data["thinking_budget"] < data["max_tokens"]:
            raise RubricError(f"{where}: 'judge.thinking_budget' must be at least 1024 and "
                              f"below judge.max_tokens ({data['max_tokens']}) when "
                              "judge.thinking is budget")
        severity = dict(data["severity"] or {})
        for check_id, level in severity.items():
            choice(where, f"judge.severity.{check_id}", level, LEVELS)
        choice(where, "judge.confirmed_duplicate", data["confirmed_duplicate"], LEVELS)
        for check_id, text in data["criteria"].items():
            if check_id not in check_ids:
                raise RubricError(f"{where}: unknown check 'judge.criteria.{check_id}' "
                                  f"(known: {', '.join(check_ids)})")
            if not isinstance(text, str):
                raise _fail(where, f"judge.criteria.{check_id}", "text", text)
        for model, price in data["pricing"].items():
            if not isinstance(price, dict) or set(price) != set(PRICES) \
                    or not all(_is_number(v) for v in price.values()):
                raise RubricError(f"{where}: 'judge.pricing.{model}' must map "
                                  f"{', '.join(PRICES)} to numbers")
        if not isinstance(data["focus"], str):
            raise _fail(where, "judge.focus", "text", data["focus"])
        values = {name: data[name] for name in cls.__dataclass_fields__}
        values.update(severity=severity, criteria=dict(data["criteria"]),
                      context_domains=tuple(data["context_domains"] or ()),
                      pricing={m: dict(p) for m, p in data["pricing"].items()})
        return cls(**values)
