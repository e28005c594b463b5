"""Finding and Severity: the one shape every check reports in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"
INFO = "info"
OFF = "off"

SEVERITIES = (ERROR, WARNING, INFO)
NEW, EXISTING = "new", "existing"  # a finding the change introduces, or one already there
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
    status: str = NEW  # or EXISTING: already there before the change, or in the baseline

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
        data["status"] = self.status
        return data

    def subject(self) -> str:
        """What the finding is about, independent of where it sits and how it is worded:
        the link target, the field and its value, the duplicate, the quoted word, the
        text a custom rule matched."""
        extras = self.extras
        if extras.get("duplicate_of"):
            return f"duplicate_of={extras['duplicate_of']}"
        if extras.get("target") is not None:
            heading = f"#{extras['heading']}" if extras.get("heading") else ""
            return f"target={str(extras['target']).strip().lower()}{heading}"
        if extras.get("field") is not None:
            value = f"={extras['value']}" if extras.get("value") is not None else ""
            return f"field={extras['field']}{value}"
        for key in ("value", "word", "level", "match"):
            if extras.get(key) is not None:
                return f"{key}={extras[key]}"
        candidates = extras.get("candidates")
        if candidates and isinstance(candidates[0], dict):
            return f"candidate={candidates[0].get('path')}"
        return ""

    def fingerprint(self) -> str:
        """The same finding across edits elsewhere in the file and across renames: check,
        rule and subject; never the path, the line or the message text."""
        return f"{self.rule}|{self.subject()}"


def make(check: str, rule: str, path: str, line: int, message: str, hint: str = "",
         **extras: Any) -> Finding:
    """A finding whose severity the engine fills in from the rubric."""
    column = extras.pop("column", None)
    return Finding(check, f"{check}.{rule}", "", path, line, message, hint, column, extras)
