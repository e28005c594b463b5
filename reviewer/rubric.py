"""Load, extend, merge and validate rubrics. The only module that reads configuration."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import yaml

from reviewer.findings import OFF, SEVERITIES

KB_CONFIG = ".claim-review.yaml"
BUILTIN_DIR = Path(__file__).resolve().parent.parent / "rubrics"
FREE_MAPS = {("checks", "*", "severity"), ("judge", "criteria"), ("judge", "pricing"),
             ("github", "territories")}


try:  # the C loader is several times faster; fall back when libyaml is absent
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _SafeLoader


class _Loader(_SafeLoader):
    """YAML 1.2 booleans: only true and false. `severity: {x: off}` and `title_match: off`
    mean the word "off", not False (YAML 1.1 also reads on/off/yes/no as booleans)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool",
                              re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


class RubricError(Exception):
    """A rubric that cannot be used. Always names the file and the key."""


def builtin_dir() -> Path:
    """Installed, the rubrics sit in the package (reviewer/rubrics, see pyproject.toml);
    in a source checkout or an editable install, at the repository root."""
    packaged = Path(__file__).resolve().parent / "rubrics"
    return packaged if (packaged / "default.yaml").is_file() else BUILTIN_DIR


def builtin_names() -> list[str]:
    return sorted(p.stem for p in builtin_dir().glob("*.yaml"))


class Rubric:
    def __init__(self, data: dict[str, Any], origin: list[str]):
        self.data = data
        self.origin = origin

    # -- reviewer and verdict ------------------------------------------------
    @property
    def reviewer_name(self) -> str:
        return str(self.data["reviewer"]["name"])

    @property
    def reviewer_key(self) -> str:
        return str(self.data["reviewer"]["key"])

    @property
    def fail_on(self) -> str:
        return str(self.data["verdict"]["fail_on"])

    # -- files ---------------------------------------------------------------
    @property
    def files_include(self) -> list[str]:
        return self.data["files"]["include"]

    @property
    def files_exclude(self) -> list[str]:
        return self.data["files"]["exclude"]

    @property
    def max_file_bytes(self) -> int:
        return int(self.data["files"]["max_bytes"])

    @property
    def claims_paths(self) -> list[str]:
        return self.data["claims"]["paths"]

    @property
    def claims_exclude(self) -> list[str]:
        return self.data["claims"]["exclude"]

    @property
    def schema(self) -> dict[str, Any]:
        return self.data["schema"]

    @property
    def claim_type(self) -> str:
        return str(self.data["schema"]["type"])

    # -- checks --------------------------------------------------------------
    def check_enabled(self, check_id: str) -> bool:
        return bool(self.data["checks"].get(check_id, {}).get("enabled", True))

    def check_options(self, check_id: str, defaults: dict[str, Any]) -> dict[str, Any]:
        options = copy.deepcopy(defaults)
        for key, value in self.data["checks"].get(check_id, {}).items():
            if key not in ("enabled", "severity"):
                options[key] = value
        return options

    def severity(self, check_id: str, rule: str, default: str) -> str:
        short = rule.split(".", 1)[1]
        overrides = self.data["checks"].get(check_id, {}).get("severity") or {}
        return str(overrides.get(short, default))

    @property
    def judge(self) -> dict[str, Any]:
        return self.data.get("judge", {})

    def digest(self) -> str:
        text = json.dumps(self.data, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_rubric(explicit: Path | None = None, kb_root: Path | None = None) -> Rubric:
    """`--rubric` wins; else the knowledge base's `.claim-review.yaml`; else the default."""
    default_path = builtin_dir() / "default.yaml"
    base = _read(default_path)
    base.pop("extends", None)
    chosen = explicit
    if chosen is None and kb_root is not None and (kb_root / KB_CONFIG).is_file():
        chosen = kb_root / KB_CONFIG
    if chosen is None:
        return _finish(base, [str(default_path)])
    layers = _chain(Path(chosen), seen=[])
    data = base
    for path, layer in layers:
        _validate(layer, base, str(path), ())
        data = _merge(data, layer)
        _finish(data, [str(path)])  # value errors name the layer that wrote them
    return _finish(data, [str(default_path)] + [str(p) for p, _ in layers])


def _chain(path: Path, seen: list[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """The rubric and everything it extends, oldest ancestor first."""
    resolved = path.resolve()
    if resolved in seen:
        raise RubricError(f"{path}: 'extends' forms a cycle")
    layer = _read(path)
    parent = layer.pop("extends", None)
    if parent is None or parent == "default":
        return [(path, layer)]
    if not isinstance(parent, str):
        raise RubricError(f"{path}: key 'extends' must be a rubric name or a path")
    return _chain(_locate(parent, path), seen + [resolved]) + [(path, layer)]


def _locate(name: str, child: Path) -> Path:
    candidate = builtin_dir() / f"{name}.yaml"
    if "/" not in name and not name.endswith((".yaml", ".yml")) and candidate.is_file():
        return candidate
    relative = (child.parent / name).resolve()
    if relative.is_file():
        return relative
    raise RubricError(
        f"{child}: 'extends: {name}' is neither a built-in rubric "
        f"({', '.join(builtin_names())}) nor a file next to it")


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RubricError(f"{path}: cannot read rubric ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise RubricError(f"{path}: rubric is not UTF-8") from exc
    try:
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise RubricError(f"{path}{where}: rubric is not valid YAML ({exc})") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RubricError(f"{path}: a rubric must be a mapping of keys, not a YAML list or scalar")
    return data


def _validate(layer: dict[str, Any], default: dict[str, Any], origin: str, where: tuple) -> None:
    for key, value in layer.items():
        dotted = ".".join((*where, str(key)))
        if key not in default:
            known = ", ".join(sorted(map(str, default))) or "none"
            raise RubricError(f"{origin}: unknown key '{dotted}' (known here: {known})")
        expected = default[key]
        if _is_free(where + (key,)):
            if not isinstance(value, dict):
                raise RubricError(f"{origin}: key '{dotted}' must be a mapping")
            continue
        if isinstance(expected, dict):
            if not isinstance(value, dict):
                raise RubricError(f"{origin}: key '{dotted}' must be a mapping")
            _validate(value, expected, origin, where + (key,))
        elif expected is not None and value is not None and not _same_kind(value, expected):
            raise RubricError(
                f"{origin}: key '{dotted}' must be a {_kind(expected)}, not {value!r}")


def _is_free(path: tuple) -> bool:
    return any(len(path) == len(p) and all(a in ("*", b) for a, b in zip(p, path, strict=True))
               for p in FREE_MAPS)


def _same_kind(value: Any, expected: Any) -> bool:
    if isinstance(expected, bool):
        return isinstance(value, bool)
    if isinstance(expected, (int, float)):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, type(expected))


def _kind(value: Any) -> str:
    return {bool: "true/false", int: "number", float: "number", str: "string",
            list: "list"}.get(type(value), type(value).__name__)


def _merge(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; lists and scalars replace."""
    merged = copy.deepcopy(base)
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _option_problem(module, data: dict[str, Any], check_id: str) -> str | None:
    """A check may vet its own options (e.g. that its regular expressions compile)."""
    vet = getattr(module, "vet_options", None)
    if vet is None:
        return None
    options = copy.deepcopy(module.DEFAULTS)
    options.update({k: v for k, v in data["checks"].get(check_id, {}).items()
                    if k not in ("enabled", "severity")})
    return vet(options)


def _finish(data: dict[str, Any], origin: list[str]) -> Rubric:
    from reviewer.checks import BY_ID

    where = origin[-1]
    for check_id, section in data.get("checks", {}).items():
        module = BY_ID.get(check_id)
        if module is None:
            raise RubricError(f"{where}: unknown check 'checks.{check_id}' "
                              f"(known: {', '.join(BY_ID)})")
        for option in section:
            if option not in ("enabled", "severity") and option not in module.DEFAULTS:
                raise RubricError(f"{where}: unknown option 'checks.{check_id}.{option}' "
                                  f"(options: {', '.join(sorted(module.DEFAULTS))})")
        for rule, level in (section.get("severity") or {}).items():
            if f"{check_id}.{rule}" not in module.RULES:
                raise RubricError(f"{where}: unknown rule 'checks.{check_id}.severity.{rule}' "
                                  f"(rules: {', '.join(r.split('.', 1)[1] for r in module.RULES)})")
            if level not in (*SEVERITIES, OFF):
                raise RubricError(f"{where}: 'checks.{check_id}.severity.{rule}' must be one of "
                                  f"error, warning, info, off (got {level!r})")
        problem = _option_problem(module, data, check_id)
        if problem:
            raise RubricError(f"{where}: {problem}")
    if data["verdict"]["fail_on"] not in ("error", "warning"):
        raise RubricError(f"{where}: 'verdict.fail_on' must be 'error' or 'warning'")
    key = str(data["reviewer"]["key"])
    if not key or not key.replace("_", "").replace("-", "").isalnum():
        raise RubricError(f"{where}: 'reviewer.key' must be letters, digits, '-' or '_' "
                          f"(got {key!r})")
    problem = _judge_problem(data.get("judge", {}), BY_ID)
    if problem:
        raise RubricError(f"{where}: {problem}")
    return Rubric(data, origin)


JUDGE_NUMBERS = {"max_tokens": 1, "thinking_budget": 0, "concurrency": 1, "timeout": 0.001,
                 "retries": 0, "backoff": 0, "time_budget": 0.001, "max_claim_chars": 1,
                 "max_claims": 1}
JUDGE_CHOICES = {"thinking": ("off", "adaptive", "budget"),
                 "effort": (None, "low", "medium", "high", "xhigh", "max")}
PRICES = ("input", "output", "cache_read", "cache_write")


def _judge_problem(judge: dict[str, Any], checks: dict[str, Any]) -> str | None:
    """What `_validate` cannot see in the `judge:` section: ranges, choices, null values,
    and the free-form maps (criteria per check, pricing per model)."""
    for key, least in JUDGE_NUMBERS.items():
        value = judge[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < least:
            return f"'judge.{key}' must be a number of at least {least:g} (got {value!r})"
    for key, choices in JUDGE_CHOICES.items():
        if judge[key] not in choices:
            shown = ", ".join("null" if c is None else c for c in choices)
            return f"'judge.{key}' must be one of {shown} (got {judge[key]!r})"
    if judge["required"] and not judge["enabled"]:
        return "'judge.required' is true but 'judge.enabled' is false: no review could pass"
    if not isinstance(judge["model"], str) or not judge["model"].strip():
        return "'judge.model' must be a model name"
    temperature = judge["temperature"]
    if temperature is not None and (isinstance(temperature, bool)
                                    or not isinstance(temperature, (int, float))):
        return f"'judge.temperature' must be a number or null (got {temperature!r})"
    if judge["thinking"] == "budget" and not 1024 <= judge["thinking_budget"] < judge["max_tokens"]:
        return (f"'judge.thinking_budget' must be at least 1024 and below judge.max_tokens "
                f"({judge['max_tokens']}) when judge.thinking is budget")
    levels = (*SEVERITIES, OFF)
    for key, level in [*(judge["severity"] or {}).items(),
                       ("confirmed_duplicate", judge["confirmed_duplicate"])]:
        if level not in levels:
            name = key if key == "confirmed_duplicate" else f"severity.{key}"
            return f"'judge.{name}' must be one of error, warning, info, off (got {level!r})"
    for check_id, text in judge["criteria"].items():
        if check_id not in checks:
            return f"unknown check 'judge.criteria.{check_id}' (known: {', '.join(checks)})"
        if not isinstance(text, str):
            return f"'judge.criteria.{check_id}' must be text"
    for model, price in judge["pricing"].items():
        if not isinstance(price, dict) or set(price) != set(PRICES) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in price.values()):
            return f"'judge.pricing.{model}' must map {', '.join(PRICES)} to numbers"
    return None
