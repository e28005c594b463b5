"""Rubric tests: a folder of cases, each a note and the findings it must produce.

A case is one YAML file; rubrics/tests/README.md documents the format:

    rubric: [default, teleo-codex]   # optional; built-in names, paths or a rubric layer
    today: 2026-06-01                # optional; the day dates are judged against
    kb:                              # optional; the other notes of the knowledge base
      domains/health/Other note.md: "..."
    base:                            # optional; makes the case a change, reviewed as diff
      domains/health/The note.md: "..."
    note:                            # the note under review
      path: domains/health/The note.md
      text: "..."
    expect:                          # every finding the review must produce, and no other
      - {rule: wiki_links.broken-link, line: 14}
      - {rule: custom.hype, line: 10}  # a custom rule of the case's rubric, named long

Each case is written to a temporary folder (with `base`, a throwaway git repository whose
first commit is the base and whose second is the head) and reviewed through the one
pipeline, deterministically, under each rubric it names. The findings are compared with
`expect` by path, rule and line, and by severity when the case gives one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

from reviewer.checks import ALL_RULES, check_of, lookup_rule
from reviewer.custom_rules import NAME
from reviewer.findings import SEVERITIES, Finding
from reviewer.rubric import Rubric, RubricError, builtin_dir, builtin_names, load_rubric
from reviewer.sources import SourceError
from reviewer.yamlload import read_file

CASE_KEYS = {"rubric", "today", "kb", "base", "note", "expect"}
NOTE_KEYS = {"path", "text", "encoding", "symlink"}
EXPECT_KEYS = {"rule", "line", "path", "severity"}
# A git repository of our own: no hooks, no signing, no user or system configuration.
GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_AUTHOR_NAME": "rubric test", "GIT_AUTHOR_EMAIL": "rubric-test@invalid",
           "GIT_COMMITTER_NAME": "rubric test", "GIT_COMMITTER_EMAIL": "rubric-test@invalid"}


class CaseError(Exception):
    """A case file that cannot be run as written; it counts as a failed case."""


@dataclass(frozen=True)
class Expected:
    rule: str  # the long id
    line: int
    path: str
    severity: str | None = None

    def matches(self, finding: Finding) -> bool:
        return (finding.rule, finding.line, finding.path) == (self.rule, self.line, self.path) \
            and self.severity in (None, finding.severity)


@dataclass(frozen=True)
class Note:
    path: str
    text: str
    encoding: str = "utf-8"
    symlink: str | None = None  # the note is a symbolic link to this path instead


@dataclass
class Case:
    file: Path
    name: str  # as shown: relative to the folder the run started from
    rubrics: list[Any]  # None (the run's rubric), a name or path, or a layer mapping
    today: date | None
    kb: dict[str, str] | Path
    base: dict[str, str] | None  # None: not a change
    note: Note | None
    expect: list[Expected]


@dataclass
class Outcome:
    """One case under one rubric."""

    case: str
    rubric: str  # as shown: "default", "teleo-codex + case"
    family: str = ""  # the named rubric it is, or that the case's layer is applied to
    expected: list[Expected] = field(default_factory=list)
    missing: list[Expected] = field(default_factory=list)
    unexpected: list[Finding] = field(default_factory=list)
    invalid: str | None = None
    note_path: str | None = None
    family_rules: tuple[str, ...] = ()  # the custom rules the family's rubric declares
    family_off: tuple[str, ...] = ()  # built-in rules the family's rubric turns off

    @property
    def passed(self) -> bool:
        return self.invalid is None and not self.missing and not self.unexpected


# -- reading cases -------------------------------------------------------------
def case_files(target: Path) -> list[Path]:
    """The YAML files of a folder (recursively, in path order, hidden ones left out, such
    as a shared knowledge base's .claim-review.yaml), or the one file named."""
    if target.is_file():
        return [target]
    if not target.is_dir():
        raise SourceError(f"{target}: no such file or folder of rubric test cases")
    found = sorted(p for p in target.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(target).parts))
    if not found:
        raise SourceError(f"{target}: holds no rubric test case (*.yaml)")
    return found


def read_case(file: Path, name: str) -> Case:
    try:
        data = read_file(file)
    except ValueError as exc:
        raise CaseError(f"the case: {exc}") from exc
    if not isinstance(data, dict):
        raise CaseError("a case is a mapping with note and expect (see rubrics/tests/README.md)")
    unknown = sorted(map(str, set(data) - CASE_KEYS))
    if unknown:
        raise CaseError(f"unknown key '{unknown[0]}' (known: {', '.join(sorted(CASE_KEYS))})")
    if "expect" not in data:
        raise CaseError("'expect' is missing; a clean case says 'expect: []'")
    base = _files(data["base"], "base") if "base" in data else None
    note = _note(data.get("note"))
    if note is None and base is None:
        raise CaseError("'note' is missing (only a change, with 'base', may leave it out)")
    raw = data.get("rubric")
    rubrics = raw if isinstance(raw, list) and raw else [raw]
    today = data.get("today")
    if today is not None and not isinstance(today, date):
        raise CaseError(f"'today' must be a date YYYY-MM-DD (got {today!r})")
    kb = data.get("kb") or {}
    kb = file.parent / kb if isinstance(kb, str) else _files(kb, "kb")
    if isinstance(kb, Path) and not kb.is_dir():
        raise CaseError(f"'kb' names no folder: {kb}")
    expect = [_expected(item, note) for item in _list(data["expect"], "expect")]
    return Case(file, name, rubrics, today, kb, base, note, expect)


def _list(value: Any, key: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise CaseError(f"'{key}' must be a list")
    return value


def _files(value: Any, key: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CaseError(f"'{key}' must map note paths to their text")
    for path, text in value.items():
        _safe_path(path, key)
        if not isinstance(text, str):
            raise CaseError(f"'{key}.{path}' must be the note's text")
    return dict(value)


def _safe_path(path: Any, key: str) -> str:
    if not isinstance(path, str) or not path.strip():
        raise CaseError(f"'{key}' holds a path that is not text: {path!r}")
    parts = PurePosixPath(path).parts
    if path.startswith("/") or ".." in parts or "\\" in path:
        raise CaseError(f"'{key}': {path!r} must be a relative path inside the knowledge base")
    return path


def _note(value: Any) -> Note | None:
    if value is None:
        return None
    if not isinstance(value, dict) or "path" not in value:
        raise CaseError("'note' must be a mapping with 'path' and 'text'")
    unknown = sorted(map(str, set(value) - NOTE_KEYS))
    if unknown:
        raise CaseError(f"unknown key 'note.{unknown[0]}' (known: {', '.join(sorted(NOTE_KEYS))})")
    path = _safe_path(value["path"], "note.path")
    symlink = value.get("symlink")
    text = value.get("text")
    if symlink is not None:
        return Note(path, "", symlink=_safe_path(symlink, "note.symlink"))
    if not isinstance(text, str):
        raise CaseError("'note.text' must be the note's text")
    encoding = value.get("encoding", "utf-8")
    try:
        text.encode(encoding)
    except (LookupError, TypeError, UnicodeEncodeError) as exc:
        raise CaseError(f"'note.encoding' {encoding!r} cannot write the text ({exc})") from exc
    return Note(path, text, encoding)


def _expected(item: Any, note: Note | None) -> Expected:
    if not isinstance(item, dict) or not {"rule", "line"} <= set(item):
        raise CaseError(f"each 'expect' entry needs 'rule' and 'line' (got {item!r})")
    unknown = sorted(map(str, set(item) - EXPECT_KEYS))
    if unknown:
        raise CaseError(f"unknown key 'expect.{unknown[0]}' "
                        f"(known: {', '.join(sorted(EXPECT_KEYS))})")
    rule = lookup_rule(str(item["rule"])) or _custom_name(str(item["rule"]))
    if rule is None:
        raise CaseError(f"'expect' names the unknown rule '{item['rule']}'")
    line = item["line"]
    if not isinstance(line, int) or isinstance(line, bool) or line < 1:
        raise CaseError(f"'expect' line of {rule} must be a line number (got {line!r})")
    severity = item.get("severity")
    if severity is not None and severity not in SEVERITIES:
        raise CaseError(f"'expect' severity of {rule} must be one of {', '.join(SEVERITIES)}")
    path = item.get("path") or (note.path if note else None)
    if path is None:
        raise CaseError(f"'expect' entry for {rule} needs 'path' (the case has no note)")
    return Expected(rule, line, _safe_path(path, "expect.path"), severity)


def _custom_name(name: str) -> str | None:
    """A custom rule named long (custom.<name>): which rules exist depends on the rubric
    the case runs under, so it is checked against that rubric when the case runs."""
    check, _, short = name.strip().partition(".")
    return name.strip() if check == "custom" and NAME.fullmatch(short) else None


def _undeclared(expected: list[Expected], rubric: Rubric) -> str | None:
    """Why the case cannot run under `rubric`: an expected custom rule it does not
    declare, or one only the LLM judge raises."""
    own = check_of("custom", rubric)
    for entry in expected:
        if not entry.rule.startswith("custom.") or entry.rule == "custom.internal-error":
            continue
        if own is not None and entry.rule in own.CRITERIA:
            return (f"'expect' names {entry.rule}, a question for the LLM judge; rubric tests "
                    "run without the judge")
        if own is None or entry.rule not in own.RULES:
            return f"'expect' names {entry.rule}, which the rubric does not declare"
    return None


# -- choosing the rubric -------------------------------------------------------
class Rubrics:
    """The rubrics cases name, loaded once each. `default` is the run's rubric (the
    --rubric file, else the built-in default)."""

    def __init__(self, default: Path | None = None):
        self.default_path = default
        self._loaded: dict[str, Rubric] = {}

    def default(self) -> tuple[str, Rubric]:
        if self.default_path is None:
            return "default", self._load("default", builtin_dir() / "default.yaml")
        return self.default_path.name, self._load(str(self.default_path), self.default_path)

    def resolve(self, spec: Any, case: Case) -> tuple[str, str, Rubric]:
        """(label, family, rubric): a layer's family is the rubric it is applied to."""
        label, family, rubric, _family_rubric = self.resolve_family(spec, case)
        return label, family, rubric

    def resolve_family(self, spec: Any, case: Case) -> tuple[str, str, Rubric, Rubric]:
        """As `resolve`, with the family's own rubric (whose custom rules coverage counts)."""
        if spec is None:
            label, rubric = self.default()
            return label, label, rubric, rubric
        if isinstance(spec, str):
            rubric = self._named(spec, case.file.parent)
            return spec, spec, rubric, rubric
        if isinstance(spec, dict):
            layer = dict(spec)
            parent = layer.pop("extends", None)
            _, family, base, _ = self.resolve_family(parent, case)
            try:
                return (f"{family} + case", family,
                        base.with_layer(layer, f"{case.name}: rubric"), base)
            except RubricError as exc:
                raise CaseError(str(exc)) from exc
        raise CaseError(f"'rubric' must be a rubric name, a path or a mapping (got {spec!r})")

    def _named(self, name: str, folder: Path) -> Rubric:
        if "/" not in name and not name.endswith((".yaml", ".yml")) \
                and name in builtin_names():
            return self._load(name, builtin_dir() / f"{name}.yaml")
        path = (folder / name).resolve()
        if not path.is_file():
            raise CaseError(f"'rubric: {name}' is neither a built-in rubric "
                            f"({', '.join(builtin_names())}) nor a file next to the case")
        return self._load(str(path), path)

    def _load(self, key: str, path: Path) -> Rubric:
        if key not in self._loaded:
            try:
                self._loaded[key] = load_rubric(path)
            except RubricError as exc:
                raise CaseError(str(exc)) from exc
        return self._loaded[key]


# -- running -------------------------------------------------------------------
def run_cases(target: Path, rubric: Path | None = None) -> list[Outcome]:
    """Every case under `target`, under each rubric it names, in path order."""
    rubrics = Rubrics(rubric)
    outcomes: list[Outcome] = []
    top = target if target.is_dir() else target.parent
    for file in case_files(target):
        name = file.relative_to(top).as_posix()
        try:
            case = read_case(file, name)
        except CaseError as exc:
            outcomes.append(Outcome(name, "", invalid=str(exc)))
            continue
        for spec in case.rubrics:
            outcomes.append(run_case(case, spec, rubrics))
    return outcomes


def run_case(case: Case, spec: Any, rubrics: Rubrics) -> Outcome:
    label = family = spec if isinstance(spec, str) else "case rubric"
    try:
        label, family, rubric, family_rubric = rubrics.resolve_family(spec, case)
        undeclared = _undeclared(case.expect, rubric)
        if undeclared:
            raise CaseError(undeclared)
        findings = review_case(case, rubric)
    except (CaseError, RubricError, SourceError) as exc:
        return Outcome(case.name, label, family, case.expect, invalid=str(exc))
    missing, unexpected = compare(case.expect, findings)
    own = check_of("custom", family_rubric)
    return Outcome(case.name, label, family, case.expect, missing, unexpected,
                   note_path=case.note.path if case.note else None,
                   family_rules=tuple(own.RULES) if own is not None else (),
                   family_off=_off(family_rubric))


def _off(rubric: Rubric) -> tuple[str, ...]:
    """Built-in rules the rubric turns off (the rule, or its whole check): no case can
    expect them, so coverage does not ask for one."""
    return tuple(rule for rule, module in ALL_RULES.items()
                 if not rubric.check_enabled(module.ID)
                 or rubric.severity(module.ID, rule, module.RULES[rule]) == "off")


def compare(expected: list[Expected], findings: list[Finding]
            ) -> tuple[list[Expected], list[Finding]]:
    """Expected findings nothing matched, and findings nothing expected. Entries that
    name a severity are matched first, so a looser entry cannot take their finding."""
    pool = list(findings)
    missing = []
    for entry in sorted(expected, key=lambda e: e.severity is None):
        index = next((i for i, f in enumerate(pool) if entry.matches(f)), None)
        if index is None:
            missing.append(entry)
        else:
            pool.pop(index)
    return missing, pool


def review_case(case: Case, rubric: Rubric) -> list[Finding]:
    """The case's findings: its note reviewed as `check` does, or its change as `diff`."""
    from reviewer.change import from_git, from_paths
    from reviewer.pipeline import build_review

    with tempfile.TemporaryDirectory(prefix="claim-review-case-") as tmp:
        root = Path(tmp) / "kb"
        root.mkdir()
        if case.base is None:
            _write_kb(case, root)
            _write_note(root, case.note)
            change = from_paths(root, [root / case.note.path], rubric)
        else:
            base, head = _commit_change(case, root)
            change = from_git(root, base, head, rubric, baseline=None)
        if case.today is not None:
            change.ctx.today = case.today
        return build_review(change, no_llm=True).findings


def _write_kb(case: Case, root: Path) -> None:
    if isinstance(case.kb, Path):
        shutil.copytree(case.kb, root, symlinks=True, dirs_exist_ok=True)
        return
    for path, text in case.kb.items():
        _write(root / path, text.encode("utf-8"))


def _write_note(root: Path, note: Note | None) -> None:
    if note is None:
        return
    target = root / note.path
    target.parent.mkdir(parents=True, exist_ok=True)
    if note.symlink is not None:
        os.symlink(os.path.relpath(root / note.symlink, target.parent), target)
    else:
        target.write_bytes(note.text.encode(note.encoding))


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _commit_change(case: Case, root: Path) -> tuple[str, str]:
    """A throwaway repository: the base commit (kb and base), then the head commit (kb and
    the note; base files the head does not keep are deleted). Their commit ids."""
    _git(root, "init", "--quiet")
    _write_kb(case, root)
    for path, text in (case.base or {}).items():
        _write(root / path, text.encode("utf-8"))
    base = _commit(root, "base")
    kept = set() if isinstance(case.kb, Path) else set(case.kb)
    for path in set(case.base or {}) - kept:
        (root / path).unlink()
    if case.note is not None:
        target = root / case.note.path
        if target.is_symlink() or target.exists():
            target.unlink()
        _write_note(root, case.note)
    return base, _commit(root, "head")


def _commit(root: Path, message: str) -> str:
    _git(root, "add", "--all")
    _git(root, "-c", "commit.gpgsign=false", "-c", "core.hooksPath=" + os.devnull,
         "commit", "--quiet", "--allow-empty", "--no-verify", "-m", message)
    return _git(root, "rev-parse", "HEAD")


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}, check=False)
    if done.returncode != 0:
        raise SourceError(f"git {args[0]} failed in the case's repository: "
                          f"{done.stderr.strip()}")
    return done.stdout.strip()


# -- reporting -----------------------------------------------------------------
def report(outcomes: list[Outcome], quiet: bool = False) -> str:
    """One line per case and rubric (failures with what went wrong), then the totals."""
    lines = []
    for outcome in outcomes:
        if outcome.passed and quiet:
            continue
        state = "passed" if outcome.passed else "failed"
        shown = f" [{outcome.rubric}]" if outcome.rubric else ""
        lines.append(f"{state}  {outcome.case}{shown}")
        if outcome.invalid is not None:
            lines.append(f"    invalid case: {outcome.invalid}")
        for entry in outcome.missing:
            lines.append(f"    missing finding: {entry.rule}{_severity(entry.severity)} on "
                         f"{_where(entry.path, entry.line, outcome.note_path)}")
        for finding in outcome.unexpected:
            lines.append(f"    unexpected finding: {finding.rule} ({finding.severity}) on "
                         f"{_where(finding.path, finding.line, outcome.note_path)}: "
                         f"{finding.message}")
    passed = sum(o.passed for o in outcomes)
    lines.append(f"{passed} passed, {len(outcomes) - passed} failed")
    return "\n".join(lines) + "\n"


def _severity(severity: str | None) -> str:
    return f" ({severity})" if severity else ""


def _where(path: str, line: int, note_path: str | None) -> str:
    return f"line {line}" if path == note_path else f"{path} line {line}"


def expectable_rules() -> list[str]:
    """Every rule a case can expect (the per-check judge and crash rules are not in the
    registry: no deterministic case raises them)."""
    return list(ALL_RULES)


def coverage(outcomes: list[Outcome]) -> dict[str, set[str]]:
    """Per rubric, the rules that passing cases expect; a case's own layer counts for the
    rubric it is applied to."""
    covered: dict[str, set[str]] = {}
    for outcome in outcomes:
        if outcome.passed:
            covered.setdefault(outcome.family, set()).update(e.rule for e in outcome.expected)
    return covered


def uncovered(outcomes: list[Outcome]) -> dict[str, list[str]]:
    """Per rubric, the rules no passing case expects: the built-in rules it does not turn
    off, and the custom rules it declares itself (not those a case's own layer adds)."""
    rules = expectable_rules()
    declared: dict[str, dict[str, None]] = {}
    off: dict[str, set[str]] = {}
    for outcome in outcomes:
        declared.setdefault(outcome.family, {}).update(dict.fromkeys(outcome.family_rules))
        off.setdefault(outcome.family, set()).update(outcome.family_off)
    return {label: [r for r in [*rules, *declared.get(label, {})]
                    if r not in found and r not in off.get(label, set())]
            for label, found in sorted(coverage(outcomes).items())}
