"""The JSON contract other tools parse. Change it only by adding fields."""

from __future__ import annotations

import json
from typing import Any

from reviewer import __version__
from reviewer.render.parts import Display
from reviewer.review import Review
from reviewer.scrub import scrub_all


def review_dict(review: Review, display: Display | None = None) -> dict[str, Any]:
    """The contract. `display.min_severity` leaves lower findings out of `files`; the
    `summary` still counts every finding, and `display` says what was left out."""
    display = display or Display()
    return {
        "version": __version__,
        "verdict": review.verdict if review.incomplete is None else None,
        "incomplete": review.incomplete,
        "reviewer": {"name": review.rubric.reviewer_name, "key": review.rubric.reviewer_key},
        "rubric": {"files": review.rubric.origin, "digest": review.rubric.digest()},
        "files": [
            {"path": report.path,
             "findings": [f.to_dict() for f in report.findings if display.shows(f)],
             "fixed": [f.to_dict() for f in report.fixed],
             "suppressed": [f.to_dict() for f in report.suppressed]}
            for report in review.files
        ],
        "summary": review.summary(),
        "judge": review.judge.to_dict() if review.judge is not None else None,
        "notes": review.notes,
        "stale_baseline": review.stale_baseline,
        "impact": [item.to_dict() for item in review.impact],
        "display": {"min_severity": display.min_severity,
                    "hidden": display.hidden(review.findings)},
    }


def render_json(review: Review, display: Display | None = None) -> str:
    data = scrub_all(review_dict(review, display))
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
