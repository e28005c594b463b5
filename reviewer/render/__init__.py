"""Renderers: one review, three shapes (terminal text, the posted markdown, the JSON contract)."""

from __future__ import annotations

from reviewer.engine import Review


def count(n: int, noun: str) -> str:
    """`1 error`, `2 errors`: reviews are read by people."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def render(review: Review, fmt: str, color: bool = False) -> str:
    if fmt == "json":
        from reviewer.render.json import render_json

        return render_json(review)
    if fmt == "markdown":
        from reviewer.render.markdown import render_markdown

        return render_markdown(review)
    from reviewer.render.text import render_text

    return render_text(review, color=color)
