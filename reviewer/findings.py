"""Finding and Severity: the one shape every check reports in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"
INFO = "info"
OFF = "off"

SEVERITIES = (ERROR, WARNING, INFO)
RANK = {ERROR: 3, WARNING: 2, INFO: 1}


@dataclass
class Finding:
    check: str
    rule: str
    severity: str
    path: str
    line: int
    message: str
    hint: str = ""
    column: int | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    source: str = "validator"  # "validator" or "judge"

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.rule, self.column or 0, self.message)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "check": self.check,
            "rule": self.rule,
            "severity": self.severity,
            "line": self.line,
            "message": self.message,
        }
        if self.column is not None:
            data["column"] = self.column
        if self.hint:
            data["hint"] = self.hint
        data["source"] = self.source
        data.update(self.extras)
        return data


def make(check: str, rule: str, path: str, line: int, message: str, hint: str = "",
         **extras: Any) -> Finding:
    """A finding whose severity the engine fills in from the rubric."""
    column = extras.pop("column", None)
    return Finding(check, f"{check}.{rule}", "", path, line, message, hint, column, extras)
