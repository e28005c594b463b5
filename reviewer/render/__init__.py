"""Renderers: one review, three shapes (terminal text, the posted markdown, the JSON contract)."""

from __future__ import annotations

from reviewer.render.parts import ICONS, Display, count, usage_line
from reviewer.review import Review

__all__ = ["FORMATS", "ICONS", "Display", "count", "render", "usage_line"]

FORMATS = ("text", "markdown", "json", "github", "sarif")


def render(review: Review, fmt: str, color: bool = False, new_only: bool = False,
           display: Display | None = None) -> str:
    """The review in one of FORMATS; `display` (or `color` and `new_only`) says how."""
    display = display or Display(color=color, new_only=new_only)
    if fmt == "json":
        from reviewer.render.json_contract import render_json

        return render_json(review, display)
    if fmt == "markdown":
        from reviewer.render.markdown import render_markdown

        return render_markdown(review, shows=display.shows)
    if fmt == "github":
        from reviewer.render.annotations import render_github

        return render_github(review, display)
    if fmt == "sarif":
        from reviewer.render.sarif import render_sarif

        return render_sarif(review, display)
    from reviewer.render.text import render_text

    return render_text(review, display=display)
