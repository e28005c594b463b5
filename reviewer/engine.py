"""Run the enabled checks over the change: parse problems first, then each check's hooks.

The engine knows the check contract (see `reviewer.checks`), never a check by name. It
returns one `FileReport` per file with findings levelled by the rubric and sorted; the
verdict is decided later, once, by `pipeline`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reviewer.checks import checks_for
from reviewer.claim import Claim
from reviewer.findings import ERROR, OFF, Finding
from reviewer.kb import ReviewContext
from reviewer.review import FileReport
from reviewer.rubric import Rubric

Progress = Callable[[str, int, int], None]  # (stage, done, total), for long whole-base runs


def run_checks(ctx: ReviewContext, progress: Progress | None = None) -> list[FileReport]:
    rubric = ctx.rubric
    enabled = [m for m in checks_for(rubric) if rubric.check_enabled(m.ID)]
    options = {m.ID: rubric.options(m.ID) for m in enabled}
    tell = progress or (lambda stage, done, total: None)
    preparing = [m for m in enabled if hasattr(m, "prepare")]
    for done, module in enumerate(preparing):
        tell("prepare", done, len(preparing))
        ctx.state[module.ID] = module.prepare(ctx, options[module.ID])
    tell("prepare", len(preparing), len(preparing))
    reports = {}
    claims = sorted([*ctx.claims, *ctx.notes], key=lambda c: c.path)
    for done, claim in enumerate(claims):
        tell("checks", done, len(claims))
        # parse problems count even when a rubric disables the schema check: a file that
        # cannot be read must never pass for want of a check to say so
        found = list(claim.problems)
        for module in _applying(enabled, claim, rubric) if not claim.unreadable else []:
            found.extend(_run(module, claim, ctx, options[module.ID]))
        reports[claim.path] = FileReport(claim.path, found, claim)
    tell("checks", len(claims), len(claims))
    for module in enabled:
        if hasattr(module, "validate_change"):
            for finding in _run_change(module, ctx, options[module.ID]):
                reports.setdefault(finding.path, FileReport(finding.path)).findings.append(
                    finding)
    for report in reports.values():
        report.findings = sorted(leveled(report.findings, rubric), key=Finding.sort_key)
    return [reports[p] for p in sorted(reports)]


def _applying(enabled: list[Any], note: Claim, rubric: Rubric) -> list[Any]:
    """Every enabled check for a claim; for a note of another declared type, its schema
    and the checks its type lists, and those that choose types themselves (OWN_TYPES)."""
    kind = rubric.document_type(note.kind) if note.kind != "claim" else None
    if kind is None:
        return enabled
    return [m for m in enabled if m.ID == "schema" or m.ID in kind.checks
            or getattr(m, "OWN_TYPES", False)]


def _run(module: Any, claim: Claim, ctx: ReviewContext, options: dict) -> list[Finding]:
    """A bug in one check must not lose the other checks' findings, nor approve."""
    try:
        return list(module.validate(claim, ctx, options))
    except Exception as exc:  # noqa: BLE001 - reported as a finding, fail closed
        return [_crash(module, claim.path, exc)]


def _run_change(module: Any, ctx: ReviewContext, options: dict) -> list[Finding]:
    try:
        return list(module.validate_change(ctx, options))
    except Exception as exc:  # noqa: BLE001 - reported as a finding, fail closed
        paths = sorted(ctx.change_paths) or ["(the change)"]
        return [_crash(module, paths[0], exc)]


def _crash(module: Any, path: str, exc: Exception) -> Finding:
    return Finding(module.ID, f"{module.ID}.internal-error", ERROR, path, 1,
                   f"the {module.ID} check crashed on this file ({type(exc).__name__}: "
                   f"{exc})", "report this as a claim-review bug, with the file")


def leveled(findings: list[Finding], rubric: Rubric) -> list[Finding]:
    """Each finding at the rubric's severity for its rule; `off` drops it."""
    kept = []
    checks = {m.ID: m for m in checks_for(rubric)}
    for finding in findings:
        module = checks.get(finding.check)
        default = module.RULES.get(finding.rule, finding.severity or ERROR) if module else ERROR
        finding.severity = rubric.severity(finding.check, finding.rule, default)
        if finding.severity != OFF:
            kept.append(finding)
    return kept
