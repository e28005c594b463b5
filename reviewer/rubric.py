"""Load, extend, merge and validate rubrics. The only module that reads configuration."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import yaml

from reviewer.custom_rules import CustomRules
from reviewer.settings import (
    LEVELS,
    DocumentType,
    GitHubSettings,
    JudgeSettings,
    Reviewer,
    ReviewerSettings,
    RubricError,
    VerdictSettings,
    choice,
    number,
)
from reviewer.yamlload import SafeLoader, load_capped

__all__ = ["KB_CONFIG", "Rubric", "RubricError", "builtin_data", "builtin_dir", "builtin_names",
           "load_rubric"]

KB_CONFIG = ".claim-review.yaml"
BUILTIN_DIR = Path(__file__).resolve().parent.parent / "rubrics"
FREE_MAPS = {("checks", "*", "severity"), ("judge", "criteria"), ("judge", "pricing"),
             ("types",),
             ("github", "territories"),
             ("custom",)}  # its rules are checked by custom_rules.CustomRules


class _Loader(SafeLoader):
    """YAML 1.2 booleans: only true and false. `severity: {x: off}` and `title_match: off`
    mean the word "off", not False (YAML 1.1 also reads on/off/yes/no as booleans)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool",
                              re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _one_rule_per_name(loader: SafeLoader, node: yaml.MappingNode, deep: bool = False):
    """Two custom rules of one name in a rubric file are an error: YAML would keep the
    last and silently drop the first."""
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "custom" \
                and isinstance(value, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for name, _rule in value.value:
                line = name.start_mark.line + 1
                if isinstance(name, yaml.ScalarNode) and name.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"custom rule '{name.value}' is declared twice (lines "
                        f"{seen[name.value]} and {line}); give each rule its own name",
                        name.start_mark)
                seen[getattr(name, "value", None)] = line
    return SafeLoader.construct_mapping(loader, node, deep)


_Loader.construct_mapping = _one_rule_per_name  # type: ignore[method-assign]


def builtin_dir() -> Path:
    """Installed, the rubrics sit in the package (reviewer/rubrics, see pyproject.toml);
    in a source checkout or an editable install, at the repository root."""
    packaged = Path(__file__).resolve().parent / "rubrics"
    return packaged if (packaged / "default.yaml").is_file() else BUILTIN_DIR


def builtin_names() -> list[str]:
    return sorted(p.stem for p in builtin_dir().glob("*.yaml"))


def builtin_data(name: str) -> dict[str, Any]:
    """A built-in rubric's own keys, as written (without its `extends`)."""
    data = _read(builtin_dir() / f"{name}.yaml")
    data.pop("extends", None)
    return data


class Rubric:
    """A validated rubric. Its sections are handed out typed; its data is never changed
    after loading: `with_overrides` makes a new, re-validated rubric."""

    def __init__(self, data: dict[str, Any], origin: list[str]):
        from reviewer.checks import BY_ID

        where = origin[-1]
        self._data = data
        self.origin = origin
        self.reviewer = ReviewerSettings.from_data(data["reviewer"], where)
        self.reviewers = _reviewers(data, self.reviewer, where)
        self.verdict = VerdictSettings.from_data(data["verdict"], where)
        self.github = GitHubSettings.from_data(data["github"], where)
        self.judge = JudgeSettings.from_data(data["judge"], where, list(BY_ID))
        self.types = {name: DocumentType.from_data(name, spec, where, list(BY_ID))
                      for name, spec in (data.get("types") or {}).items()}
        if self.claim_type in self.types:
            raise RubricError(f"{where}: 'types.{self.claim_type}' is the claim type; "
                              "claims take their schema from the 'schema' section")
        self._options = {check_id: _options(module, data) for check_id, module in BY_ID.items()}
        self.custom = _custom(data, where, self.claim_type, list(self.types))
        self._options["custom"] = {}  # custom rules carry their settings in self.custom
        baseline = data.get("baseline") or ""
        if not isinstance(baseline, str) or baseline.startswith(("/", "\\")) \
                or ".." in baseline.replace("\\", "/").split("/"):
            raise RubricError(f"{where}: 'baseline' must be a path inside the knowledge base, "
                              f"relative to its root (got {baseline!r})")

    @property
    def data(self) -> dict[str, Any]:
        """A copy of the effective rubric, for printing."""
        return copy.deepcopy(self._data)

    # -- reviewer and verdict ------------------------------------------------
    @property
    def reviewer_name(self) -> str:
        return self.reviewer.name

    @property
    def reviewer_key(self) -> str:
        return self.reviewer.key

    @property
    def fail_on(self) -> str:
        return self.verdict.fail_on

    # -- files ---------------------------------------------------------------
    @property
    def files_include(self) -> list[str]:
        return self._data["files"]["include"]

    @property
    def files_exclude(self) -> list[str]:
        return self._data["files"]["exclude"]

    @property
    def files_ignore(self) -> list[str]:
        return self._data["files"]["ignore"]

    @property
    def max_file_bytes(self) -> int:
        return int(self._data["files"]["max_bytes"])

    @property
    def claims_paths(self) -> list[str]:
        return self._data["claims"]["paths"]

    @property
    def claims_exclude(self) -> list[str]:
        return self._data["claims"]["exclude"]

    @property
    def schema(self) -> dict[str, Any]:
        return self._data["schema"]

    @property
    def baseline_path(self) -> str:
        """The baseline file, relative to the knowledge-base root; "" for none."""
        return str(self._data.get("baseline") or "")

    def document_type(self, kind: object) -> DocumentType | None:
        """The declared document type of a note whose `type` is `kind`, if any."""
        return self.types.get(kind) if isinstance(kind, str) else None

    @property
    def claim_type(self) -> str:
        return str(self._data["schema"]["type"])

    # -- checks --------------------------------------------------------------
    def check_enabled(self, check_id: str) -> bool:
        return bool(self._data["checks"].get(check_id, {}).get("enabled", True))

    def options(self, check_id: str) -> dict[str, Any]:
        """The check's options: its defaults, overridden by the rubric (a fresh copy)."""
        return copy.deepcopy(self._options[check_id])

    def check_options(self, check_id: str, defaults: dict[str, Any] | None = None
                      ) -> dict[str, Any]:
        return self.options(check_id)

    def severity(self, check_id: str, rule: str, default: str) -> str:
        short = rule.split(".", 1)[1]
        overrides = self._data["checks"].get(check_id, {}).get("severity") or {}
        return str(overrides.get(short, default))

    def digest(self) -> str:
        text = json.dumps(self._data, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def for_reviewer(self, reviewer: Reviewer) -> Rubric:
        """The rubric as one of several reviewers applies it: its name and marker key, and
        its judge's focus, model and domain context."""
        judge: dict[str, Any] = {"focus": reviewer.focus,
                                 "context_domains": list(reviewer.domains)
                                 if reviewer.context else []}
        if reviewer.model:
            judge["model"] = reviewer.model
        layer = {"reviewer": {"name": reviewer.name, "key": reviewer.key}, "judge": judge,
                 "reviewers": []}
        _validate(layer, self._data, f"reviewer {reviewer.key}", ())
        return _finish(_merge(self._data, layer), [*self.origin, f"reviewer {reviewer.key}"])

    def with_overrides(self, *, reviewer_key: str | None = None, post_as: str | None = None,
                       model: str | None = None, judge_cache: bool | None = None) -> Rubric:
        """A new rubric with command-line overrides, validated like any rubric layer."""
        layer: dict[str, Any] = {}
        if reviewer_key is not None:
            layer["reviewer"] = {"key": reviewer_key}
            layer["reviewers"] = []  # one key given: one reviewer
        if post_as is not None:
            layer["github"] = {"post_as": post_as}
        if model is not None:
            layer.setdefault("judge", {})["model"] = model
        if judge_cache is not None:
            layer.setdefault("judge", {})["cache"] = judge_cache
        if not layer:
            return self
        _validate(layer, self._data, "command line", ())
        return _finish(_merge(self._data, layer), [*self.origin, "command line"])

    def with_layer(self, layer: dict[str, Any], origin: str) -> Rubric:
        """A new rubric with `layer` merged on top (no `extends`), validated like any
        rubric file; errors name `origin`. Rubric test cases and calibration use it."""
        if "extends" in layer:
            raise RubricError(f"{origin}: 'extends' cannot be applied to a loaded rubric")
        _validate(layer, self._data, origin, ())
        return _finish(_merge(self._data, layer), [*self.origin, origin])


def _reviewers(data: dict[str, Any], single: ReviewerSettings, where: str) -> list[Reviewer]:
    declared = data.get("reviewers") or []
    if not isinstance(declared, list):
        raise RubricError(f"{where}: 'reviewers' must be a list of reviewers")
    reviewers = [Reviewer.from_data(item, where, i) for i, item in enumerate(declared)]
    keys = [r.key for r in reviewers]
    if len(set(keys)) != len(keys):
        raise RubricError(f"{where}: 'reviewers' gives a key twice ({', '.join(keys)})")
    if reviewers and not any(r.covers_all for r in reviewers):
        raise RubricError(f"{where}: 'reviewers' needs one reviewer without 'covers' (the "
                          "evaluator every change gets), or some changes would have none")
    return reviewers or [Reviewer(single.name, single.key)]


def _options(module: Any, data: dict[str, Any]) -> dict[str, Any]:
    options = copy.deepcopy(module.DEFAULTS)
    options.update({k: copy.deepcopy(v) for k, v in data["checks"].get(module.ID, {}).items()
                    if k not in ("enabled", "severity")})
    return options


def _custom(data: dict[str, Any], where: str, claim_type: str, types: list[str]
            ) -> CustomRules:
    """The `custom:` section, typed. Its names may not shadow a check or a built-in rule's
    short name, which `explain` and suppressions resolve first."""
    from reviewer.checks import BY_ID, PER_CHECK_RULES, SHORT_NAMES

    levels = data["schema"].get("confidence") or []
    taken = {*BY_ID, *SHORT_NAMES, *PER_CHECK_RULES, "custom"}
    names = {claim_type: "claim", **{name: name for name in types}}
    return CustomRules.from_data(data.get("custom") or {}, where,
                                 tuple(str(level) for level in levels), names, taken)


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
    root = Path(kb_root if kb_root is not None and explicit is None else Path(chosen).parent)
    layers = _chain(Path(chosen), seen=[], root=root.resolve())
    data = base
    for path, layer in layers:
        _validate(layer, base, str(path), ())
        data = _merge(data, layer)
        _finish(data, [str(path)])  # value errors name the layer that wrote them
    return _finish(data, [str(default_path)] + [str(p) for p, _ in layers])


def _chain(path: Path, seen: list[Path], root: Path) -> list[tuple[Path, dict[str, Any]]]:
    """The rubric and everything it extends, oldest ancestor first. `extends` names a
    built-in rubric or a file inside `root` (the knowledge base, or the folder of the
    rubric named on the command line): never any file on the machine."""
    resolved = path.resolve()
    if resolved in seen:
        raise RubricError(f"{path}: 'extends' forms a cycle")
    layer = _read(path)
    parent = layer.pop("extends", None)
    if parent is None or parent == "default":
        return [(path, layer)]
    if not isinstance(parent, str):
        raise RubricError(f"{path}: key 'extends' must be a rubric name or a path")
    return _chain(_locate(parent, path, root), seen + [resolved], root) + [(path, layer)]


def _locate(name: str, child: Path, root: Path) -> Path:
    candidate = builtin_dir() / f"{name}.yaml"
    if "/" not in name and not name.endswith((".yaml", ".yml")) and candidate.is_file():
        return candidate
    joined = child.parent / name
    relative = joined.resolve()
    builtin = builtin_dir().resolve()
    if not (relative.is_relative_to(root) or relative.is_relative_to(builtin)) \
            or joined.is_symlink():
        raise RubricError(f"{child}: 'extends: {name}' must name a built-in rubric "
                          f"({', '.join(builtin_names())}) or a rubric file inside {root}")
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
        data = load_capped(text, _Loader)  # a SafeLoader, with the frontmatter's alias cap
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise RubricError(f"{path}{where}: rubric is not valid YAML ({exc})") from exc
    except (ValueError, TypeError, RecursionError) as exc:  # e.g. `x: !!int abc`
        raise RubricError(f"{path}: rubric could not be loaded ({exc})") from exc
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


def _finish(data: dict[str, Any], origin: list[str]) -> Rubric:
    """Check what the shape cannot say, then build the typed rubric (which checks its
    sections); every error names the layer that wrote it."""
    from reviewer.checks import BY_ID

    where = origin[-1]
    for check_id, section in data.get("checks", {}).items():
        module = BY_ID.get(check_id)
        if module is None:
            raise RubricError(f"{where}: unknown check 'checks.{check_id}' "
                              f"(known: {', '.join(BY_ID)})")
        _check_section(module, section, data, where)
    return Rubric(data, origin)


def _check_section(module: Any, section: dict[str, Any], data: dict[str, Any],
                   where: str) -> None:
    check_id = module.ID
    for option in section:
        if option not in ("enabled", "severity") and option not in module.DEFAULTS:
            raise RubricError(f"{where}: unknown option 'checks.{check_id}.{option}' "
                              f"(options: {', '.join(sorted(module.DEFAULTS))})")
    for rule, level in (section.get("severity") or {}).items():
        if f"{check_id}.{rule}" not in module.RULES:
            raise RubricError(f"{where}: unknown rule 'checks.{check_id}.severity.{rule}' "
                              f"(rules: {', '.join(r.split('.', 1)[1] for r in module.RULES)})")
        choice(where, f"checks.{check_id}.severity.{rule}", level, LEVELS)
        if f"{check_id}.{rule}" in getattr(module, "UNREVIEWABLE", ()) and level != "error":
            raise RubricError(f"{where}: 'checks.{check_id}.severity.{rule}' cannot be "
                              f"lowered: a note that could not be reviewed must never pass "
                              "(list paths that need no review in files.ignore)")
    options = _options(module, data)
    for option, (least, most) in getattr(module, "LIMITS", {}).items():
        number(where, f"checks.{check_id}.{option}", options[option], least, most)
    for option, choices in getattr(module, "CHOICES", {}).items():
        choice(where, f"checks.{check_id}.{option}", options[option], tuple(choices))
    vet = getattr(module, "vet_options", None)
    problem = vet(options) if vet is not None else None
    if problem:
        raise RubricError(f"{where}: {problem}")
