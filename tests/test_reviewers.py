"""Several reviewers: an evaluator on every change and domain peers on theirs, each posting
its own review and marker; the gate waits for every required reviewer the change falls to,
and for the branch to stay in its territory. Through the fake GitHub and the real PyGithub."""

from __future__ import annotations

import pytest
from conftest import own_claim as claim
from test_github import BOT, T, isolate, kb_repo, open_pull, run_pr, start_fake
from test_github_gate import gate

from reviewer.protocol import read_marker
from reviewer.rubric import RubricError, load_rubric

FIN = "domains/internet-finance/"
RUBRIC = f"""\
schema:
  domains: [urban-transit, internet-finance]
reviewers:
  - name: Leo (evaluator)
    key: LEO
  - name: Rio (internet finance)
    key: RIO
    covers:
      domains: [internet-finance]
      paths: ["{FIN}**"]
      branches: ["rio/"]
    focus: Whether the mechanism holds in markets as they trade.
    context: true
github:
  territories:
    "rio/": ["{FIN}**"]
    "": ["**"]
"""
MARKETS = "Futarchy markets price proposals by their expected effect on the token"
BUSES = "Bus lanes cut trip times on congested arterials"


@pytest.fixture(autouse=True)
def hermetic(monkeypatch):
    isolate(monkeypatch)


@pytest.fixture
def fake():
    server = start_fake()
    yield server
    server.stop()


def change(tmp_path, fake, path: str, title: str, domain: str, head_ref: str = "feature"):
    body = "Since [[Existing claim about buses]], a 2024 audit of 30 cases found a 12% gain.\n"
    repo, base, head = kb_repo(tmp_path / "kb", {path: claim(title, body=body, domain=domain)},
                               rubric=RUBRIC)
    open_pull(fake, repo, base, head, head_ref=head_ref)
    fake.contents[(base, ".claim-review.yaml")] = RUBRIC  # the gate reads the base's rubric
    return repo


def markers(fake) -> list[tuple[str, str]]:
    found = [read_marker(r["body"])[0] for r in fake.pulls[1].reviews]
    return sorted((m.key, m.verdict) for m in found if m is not None)


def test_a_change_in_a_peer_domain_gets_two_reviews_with_two_markers(tmp_path, fake):
    repo = change(tmp_path, fake, f"{FIN}{MARKETS}.md", MARKETS, "internet-finance")
    result = run_pr(fake, repo)
    assert result.exit_code == 0, result.output
    assert markers(fake) == [("LEO", "APPROVE"), ("RIO", "APPROVE")]
    assert "reviewing as Leo (evaluator) (LEO), Rio (internet finance) (RIO)" in result.stderr
    bodies = [r["body"] for r in fake.pulls[1].reviews]
    assert any(b.startswith("## Rio (internet finance) review") for b in bodies)
    assert (gate(fake).exit_code, gate(fake).stdout.splitlines()[-1]) == (0, "eligible")


def test_a_change_outside_every_peer_domain_gets_the_evaluator_only(tmp_path, fake):
    repo = change(tmp_path, fake, f"{T}{BUSES}.md", BUSES, "urban-transit")
    assert run_pr(fake, repo).exit_code == 0
    assert markers(fake) == [("LEO", "APPROVE")]
    result = gate(fake)
    assert result.exit_code == 0 and "required reviewers: LEO " in result.stdout


def test_the_gate_blocks_until_every_required_reviewer_approves(tmp_path, fake):
    repo = change(tmp_path, fake, f"{FIN}{MARKETS}.md", MARKETS, "internet-finance")
    blocked = gate(fake, "--require", "LEO,RIO")
    assert blocked.exit_code == 1
    assert "blocked: LEO: no valid verdict" in blocked.stdout
    assert "blocked: RIO: no valid verdict" in blocked.stdout
    assert run_pr(fake, repo, "--reviewer-key", "LEO").exit_code == 0  # the evaluator only
    half = gate(fake, "--require", "LEO,RIO")
    assert half.exit_code == 1 and "blocked: RIO: no valid verdict" in half.stdout
    assert "LEO" not in "".join(line for line in half.stdout.splitlines()
                                if line.startswith("blocked"))
    assert gate(fake).exit_code == 1  # by default too: the change falls to RIO
    assert run_pr(fake, repo).exit_code == 0  # RIO reviews; LEO's verdict stands
    assert gate(fake, "--require", "LEO,RIO", token=BOT).exit_code == 0


def test_a_branch_outside_its_territory_is_not_eligible(tmp_path, fake):
    repo = change(tmp_path, fake, f"{T}{BUSES}.md", BUSES, "urban-transit",
                  head_ref="rio/buses")
    assert run_pr(fake, repo).exit_code == 0
    assert markers(fake) == [("LEO", "APPROVE"), ("RIO", "APPROVE")]  # rio/ branch: RIO too
    result = gate(fake)
    assert result.exit_code == 1
    assert f'"{T}{BUSES}.md" is outside the territory of branches "rio/"' in result.stdout


def test_the_peer_judge_sees_its_focus_and_the_domain_claims_of_the_base(tmp_path):
    from conftest import write_tree

    from reviewer.change import from_paths
    from reviewer.judge import system_blocks
    from reviewer.kb import ReviewContext

    root = write_tree(tmp_path / "kb", {
        ".claim-review.yaml": RUBRIC,
        f"{FIN}{MARKETS}.md": claim(MARKETS, domain="internet-finance"),
        f"{T}{BUSES}.md": claim(BUSES, domain="urban-transit")})
    rubric = load_rubric(None, root)
    rio = rubric.for_reviewer(rubric.reviewers[1])
    ctx: ReviewContext = from_paths(root, [], rio).ctx
    ctx.claims = []
    text = system_blocks(ctx, rio.judge, ["schema"])[1]["text"]
    assert "## Your focus as Rio (internet finance)" in text
    assert MARKETS in text and BUSES not in text  # its domain only
    leo = rubric.for_reviewer(rubric.reviewers[0])
    assert "Your focus" not in system_blocks(from_paths(root, [], leo).ctx, leo.judge,
                                             ["schema"])[1]["text"]


@pytest.mark.parametrize("snippet, says", [
    ("reviewers:\n  - {key: RIO, covers: {domains: [x]}}\n", "needs one reviewer without"),
    ("reviewers:\n  - {key: LEO}\n  - {key: LEO}\n", "gives a key twice"),
    ("reviewers:\n  - {key: LÉO}\n", "is not a valid reviewer key"),
    ("reviewers:\n  - {key: LEO, covers: {teams: [x]}}\n", "'reviewers[0].covers' must be"),
])
def test_bad_reviewer_lists_are_configuration_errors(tmp_path, snippet, says):
    path = tmp_path / "r.yaml"
    path.write_text(snippet, encoding="utf-8")
    with pytest.raises(RubricError) as caught:
        load_rubric(path)
    assert says in str(caught.value)
