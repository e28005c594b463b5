"""Shared set-up of the adversarial GitHub tests: `pr` and `gate` run as the command line
runs them, and an attacker who talks to the fake GitHub through the real PyGithub. The
fixtures (`fake`, `github_hermetic`, `waits`) are in this folder's conftest.py.
"""

from __future__ import annotations

from click.testing import CliRunner
from fakes.github_server import FakeGitHub
from test_github import ACTIONS, BOT

from reviewer.cli import main

# a signing key as a repository secret would hold it (48 random-looking characters)
KEY = "q8Vt3mZr0Lx6Pn2Wc9Hs4Jd7Kf1Gb5Ay0Ue3Io8Rt6Yp2Nm4"
OTHER_KEY = "Zr0Lx6Pn2Wc9Hs4Jd7Kf1Gb5Ay0Ue3Io8Rt6Yp2Nm4q8Vt3m"


def environment(token: str, key: str | None, actions: bool) -> dict[str, str | None]:
    env: dict[str, str | None] = {"GITHUB_TOKEN": token, "CLAIM_REVIEW_SIGNING_KEY": key}
    if actions:  # a GITHUB_TOKEN that may not read /user posts as github-actions[bot]
        env["GITHUB_ACTIONS"] = "true"
    return env


def run_pr(fake: FakeGitHub, repo, *args: str, token: str = BOT, key: str | None = KEY,
           actions: bool = False):
    return CliRunner().invoke(main, ["pr", "--repo", "octo/kb", "--pr", "1", "--repo-dir",
                                     str(repo), "--api-url", fake.url, "--no-llm", *args],
                              env=environment(token, key, actions))


def run_gate(fake: FakeGitHub, *args: str, token: str = BOT, key: str | None = KEY,
             actions: bool = False):
    return CliRunner().invoke(main, ["gate", "--repo", "octo/kb", "--pr", "1", "--api-url",
                                     fake.url, *args], env=environment(token, key, actions))


def as_actions(**kwargs):
    """`pr` or `gate` with an Actions GITHUB_TOKEN (github-actions[bot])."""
    return {"token": ACTIONS, "actions": True, **kwargs}


def attacker(fake: FakeGitHub, token: str):
    """The repository as somebody holding `token` sees it, through the real PyGithub (for
    example a workflow of the repository, which posts as github-actions[bot])."""
    from github import Auth, Github

    client = Github(auth=Auth.Token(token), base_url=fake.url, retry=None,
                    seconds_between_writes=None, seconds_between_requests=None)
    return client.get_repo("octo/kb")


def last_line(body: str) -> str:
    return body.rstrip("\n").split("\n")[-1]


def in_force(fake: FakeGitHub, number: int = 1) -> list[dict]:
    """The reviews and comments that still end with a verdict marker."""
    posts = fake.pulls[number].reviews + fake.pulls[number].comments
    return [p for p in posts if "<!-- VERDICT:" in last_line(p["body"])]
