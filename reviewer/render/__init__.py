"""Renderers: one review, three shapes (terminal text, the posted markdown, the JSON contract)."""

from __future__ import annotations

from reviewer.render.parts import ICONS, count, usage_line
from reviewer.review import Review

__all__ = ["ICONS", "count", "render", "usage_line"]


def render(review: Review, fmt: str, color: bool = False, new_only: bool = False) -> str:
    if fmt == "json":
        from reviewer.render.json_contract import render_json

        return render_json(review)
    if fmt == "markdown":
        from reviewer.render.markdown import render_markdown

        return render_markdown(review)
    from reviewer.render.text import render_text

    return render_text(review, color=color, new_only=new_only)
