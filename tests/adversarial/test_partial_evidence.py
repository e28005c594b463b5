"""Class 2, partial evidence: GitHub's files API lists at most 3,000 files of a pull
request. Protected paths and territories are checked on the whole list or the pull request
is not eligible: a path past the cap must not go unseen.
"""

from __future__ import annotations

from test_github import BOT
from test_github_gate import verdict_body

from adversarial.github_kit import run_gate
from reviewer.github import FILES_LISTED_AT_MOST

HEAD, BASE = "a" * 40, "c" * 40
CAP = FILES_LISTED_AT_MOST


def claims(n: int, folder: str = "domains/urban-transit") -> list[dict]:
    return [{"filename": f"{folder}/Claim {i}.md", "status": "added", "patch": ""}
            for i in range(n)]


def approved(fake, files: list[dict], **extra):
    pull = fake.add_pull(1, "alice", HEAD, BASE, files=files, **extra)
    fake.post_review(1, "claim-bot", verdict_body(HEAD), "APPROVE", HEAD)
    return pull


def gate(fake, *args):
    return run_gate(fake, *args, token=BOT, key=None)


def test_a_protected_path_past_the_listing_cap_is_not_eligible(fake):
    files = claims(CAP) + [{"filename": ".github/workflows/release.yml", "status": "added",
                            "patch": ""}]
    approved(fake, files)
    assert fake.pulls[1].files[-1]["filename"] == ".github/workflows/release.yml"
    result = gate(fake)
    assert result.exit_code == 1
    assert (f"blocked: GitHub listed {CAP} of the pull request's {CAP + 1} changed files "
            f"(its files API stops at {CAP:,})") in result.stdout
    assert "eligible" not in result.stdout.splitlines()
    listed = [r for r in fake.requests if r.path.endswith("/files")]
    assert len(listed) == CAP // 100  # every page was read; the API simply stops


def test_a_path_outside_the_territory_past_the_cap_is_not_eligible(fake):
    fake.contents[(BASE, ".claim-review.yaml")] = (
        "github:\n  protected: []\n  territories:\n    leo/: ['domains/urban-transit/**']\n")
    approved(fake, claims(CAP) + claims(1, "domains/internet-finance"), head_ref="leo/batch")
    result = gate(fake)
    assert result.exit_code == 1
    assert f"GitHub listed {CAP} of the pull request's {CAP + 1} changed files" in result.stdout
    # the same change under the cap is judged path by path
    fake.pulls[1].files = claims(10) + claims(1, "domains/internet-finance")
    result = gate(fake)
    assert '"domains/internet-finance/Claim 0.md" is outside the territory' in result.stdout


def test_a_pull_request_whose_file_count_github_does_not_give_is_not_eligible(fake):
    approved(fake, claims(3), changed_files=-1)  # the field is missing from the answer
    result = gate(fake)
    assert result.exit_code == 1
    assert "blocked: GitHub did not say how many files the pull request changes" \
        in result.stdout


def test_a_count_larger_than_the_list_blocks_even_under_the_cap(fake):
    approved(fake, claims(40), changed_files=41)  # e.g. a file GitHub left out of the list
    result = gate(fake, "--format", "json")
    assert result.exit_code == 1
    assert "GitHub listed 40 of the pull request's 41 changed files" in result.stdout


def test_a_complete_list_of_exactly_the_cap_is_eligible(fake):
    approved(fake, claims(CAP))
    result = gate(fake)
    assert (result.exit_code, result.stdout) == (0, "eligible\n")
