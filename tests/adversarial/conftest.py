"""Fixtures of the adversarial GitHub tests: the fake GitHub on 127.0.0.1 (the real
PyGithub talks to it), a hermetic environment, and the waits `reviewer.github` makes."""

from __future__ import annotations

import pytest
from test_github import isolate, start_fake

import reviewer.github


@pytest.fixture
def github_hermetic(monkeypatch):
    """No GitHub Actions variables, no proxy, no pauses (use with `usefixtures`)."""
    isolate(monkeypatch)


@pytest.fixture
def waits(monkeypatch, github_hermetic) -> list[float]:
    """Every pause `reviewer.github` makes (backoff, rate limits), recorded, not waited."""
    seen: list[float] = []
    monkeypatch.setattr(reviewer.github, "pause", seen.append)
    return seen


@pytest.fixture
def fake(github_hermetic):
    server = start_fake()
    yield server
    server.stop()
