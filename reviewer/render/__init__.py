"""Renderers: one review, three shapes (terminal text, the posted markdown, the JSON contract)."""

from __future__ import annotations

from reviewer.engine import Review


def render(review: Review, fmt: str, color: bool = False) -> str:
    if fmt == "json":
        from reviewer.render.json import render_json

        return render_json(review)
    if fmt == "markdown":
        from reviewer.render.markdown import render_markdown

        return render_markdown(review)
    from reviewer.render.text import render_text

    return render_text(review, color=color)
