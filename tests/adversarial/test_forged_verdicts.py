"""Class 2, forgeable evidence: a verdict counts only if nobody else could have written or
altered it. Under the default Actions trust every workflow of the repository posts as
github-actions[bot]; the attacker here is such a workflow (or anyone holding the reviewer's
token), talking to GitHub through the real PyGithub.
"""

from __future__ import annotations

import pytest
from conftest import own_claim as claim
from test_github import ACTIONS, BOT, CLEAN, RUBRIC, TYPO, T, kb_repo, open_pull
from test_github_gate import verdict_body

from adversarial.github_kit import (
    KEY,
    OTHER_KEY,
    as_actions,
    attacker,
    in_force,
    last_line,
    run_gate,
    run_pr,
)
from reviewer.protocol import read_marker, seal
from reviewer.rubric import RubricError, load_rubric

REFUSED = ("POST", r"/reviews$", 403, "Resource not accessible by integration")


def failing(fake, tmp_path):
    """A pull request whose claim has a broken link: REQUEST_CHANGES by the base rubric,
    APPROVE by `lax` (the same rubric without the wiki-link check)."""
    repo, base, head = kb_repo(tmp_path / "kb", {
        f"{T}{CLEAN}.md": claim(CLEAN, body=f"Unlike [[{TYPO}]], a 2024 audit of 30 routes.\n")})
    open_pull(fake, repo, base, head)
    lax = tmp_path / "lax.yaml"
    lax.write_text(RUBRIC + "checks:\n  wiki_links:\n    enabled: false\n")
    return repo, head, lax


def refuse_reviews(fake, times: int = 2) -> None:
    """The token may not post reviews: `pr` falls back to an issue comment."""
    from fakes.github_server import Failure

    fake.failures.append(Failure(*REFUSED, times=times))


def flip(body: str) -> str:
    return body.replace("VERDICT:LEO:REQUEST_CHANGES", "VERDICT:LEO:APPROVE")


# -- (a) signed verdicts ----------------------------------------------------------
@pytest.mark.parametrize("forgery", ["unsigned", "signed with another key",
                                     "a signed REQUEST_CHANGES flipped to APPROVE"])
def test_a_comment_forged_by_a_workflow_neither_skips_the_review_nor_counts(
        fake, tmp_path, forgery):
    repo, head, _ = failing(fake, tmp_path)
    forged = {"unsigned": verdict_body(head),
              "signed with another key": seal(verdict_body(head), OTHER_KEY.encode()),
              "a signed REQUEST_CHANGES flipped to APPROVE":
                  flip(seal(verdict_body(head, "REQUEST_CHANGES"), KEY.encode()))}[forgery]
    comment = attacker(fake, ACTIONS).get_pull(1).create_issue_comment(forged)

    result = run_pr(fake, repo, **as_actions())
    assert result.exit_code == 1, result.output  # reviewed: the broken link requests changes
    assert "already has our" not in result.stderr
    assert f"ignored issue comment {comment.id}: it" in result.stderr
    # the forgery was written as our account, so it is superseded: one verdict in force
    [live] = in_force(fake)
    assert live["state"] == "CHANGES_REQUESTED"
    assert f"Superseded by review {live['id']}" in fake.pulls[1].comments[0]["body"]

    gate = run_gate(fake, **as_actions())
    assert gate.exit_code == 1
    assert "blocked: LEO: REQUEST_CHANGES at the current head" in gate.stdout
    assert "eligible" not in gate.stdout.splitlines()


def test_a_signed_verdict_is_eligible_and_the_signature_covers_the_body(fake, tmp_path):
    repo, head, lax = failing(fake, tmp_path)
    assert run_pr(fake, repo, "--rubric", str(lax), **as_actions()).exit_code == 0
    [review] = fake.pulls[1].reviews
    found, problem = read_marker(review["body"], KEY.encode())
    assert problem is None and found.signed_at is not None
    assert read_marker(review["body"].replace("passed", "failed", 1), KEY.encode())[0] is None
    assert read_marker(review["body"], OTHER_KEY.encode())[0] is None
    gate = run_gate(fake, "--format", "json", **as_actions())
    assert gate.exit_code == 0, gate.output
    assert '"signed": true' in gate.stdout
    # the same verdict with a gate that holds another key does not count
    assert run_gate(fake, **as_actions(key=OTHER_KEY)).exit_code == 1


def test_a_short_signing_key_is_a_configuration_error(fake, tmp_path):
    repo, head, _ = failing(fake, tmp_path)
    result = run_pr(fake, repo, key="hunter2")
    assert result.exit_code == 2 and "at least 32" in result.stderr
    assert fake.writes() == []
    assert run_gate(fake, key="hunter2").exit_code == 2


# -- (d) the shared Actions account without a key ---------------------------------------
def test_without_a_key_the_actions_account_alone_never_makes_a_pull_request_eligible(
        fake, tmp_path):
    repo, head, lax = failing(fake, tmp_path)
    assert run_pr(fake, repo, "--rubric", str(lax), **as_actions(key=None)).exit_code == 0
    [review] = fake.pulls[1].reviews
    assert review["state"] == "APPROVED" and "sig" not in review["body"]
    gate = run_gate(fake, **as_actions(key=None))
    assert gate.exit_code == 1
    lines = gate.stdout.splitlines()
    assert any(line.startswith("blocked: github-actions[bot] posts for every workflow")
               and "no signing key is configured (CLAIM_REVIEW_SIGNING_KEY)" in line
               and "github.trust_unsigned_actions_bot: true" in line for line in lines)
    assert f"info: ignored: review {review['id']} by @github-actions[bot]: not a trusted " \
           "account without a signing key (see github.trust_unsigned_actions_bot)" in lines
    # the rubric of the base branch may accept the risk, explicitly
    fake.contents[(fake.pulls[1].base_sha, ".claim-review.yaml")] = \
        "github:\n  trust_unsigned_actions_bot: true\n"
    assert run_gate(fake, **as_actions(key=None)).stdout == "eligible\n"


def test_without_a_key_a_listed_actions_account_is_ignored_but_other_accounts_count(
        fake, tmp_path):
    repo, head, _ = failing(fake, tmp_path)
    fake.contents[(fake.pulls[1].base_sha, ".claim-review.yaml")] = \
        "github:\n  trusted: ['github-actions[bot]', claim-bot]\n"
    fake.post_review(1, "github-actions[bot]", verdict_body(head), "APPROVE", head)
    result = run_gate(fake, key=None)
    assert result.exit_code == 1
    assert "blocked: LEO: no valid verdict from a trusted account (claim-bot)" in result.stdout
    assert "info: github-actions[bot] posts for every workflow" in result.stdout
    fake.post_review(1, "claim-bot", verdict_body(head), "APPROVE", head)
    result = run_gate(fake, key=None)
    assert result.exit_code == 0, result.output


def test_without_a_key_pr_as_the_actions_account_never_trusts_an_earlier_verdict(
        fake, tmp_path):
    repo, head, _ = failing(fake, tmp_path)
    forged = attacker(fake, ACTIONS).get_pull(1).create_issue_comment(verdict_body(head))
    result = run_pr(fake, repo, **as_actions(key=None))
    assert result.exit_code == 1, result.output  # not the forged APPROVE
    assert "already has our" not in result.stderr
    assert "without a signing key any workflow of the repository could have posted them" \
        in result.stderr
    assert f"superseded issue comment {forged.id}" in result.stderr
    [live] = in_force(fake)
    assert last_line(live["body"]) == "<!-- VERDICT:LEO:REQUEST_CHANGES -->"


@pytest.mark.parametrize("value", ["yes", 1, "null"])
def test_trust_unsigned_actions_bot_takes_true_or_false_only(tmp_path, value):
    path = tmp_path / "rubric.yaml"
    path.write_text(f"github:\n  trust_unsigned_actions_bot: {value}\n")
    with pytest.raises(RubricError, match="github.trust_unsigned_actions_bot"):
        load_rubric(path)


# -- (c) a review's state agrees with its marker -------------------------------------
def test_a_request_changes_review_edited_to_approve_does_not_count_even_unsigned(
        fake, tmp_path):
    repo, head, _ = failing(fake, tmp_path)
    assert run_pr(fake, repo, key=None).exit_code == 1  # the reviewer's own account
    [review] = fake.pulls[1].reviews
    # someone holding the reviewer's token rewrites the body; REST shows no trace of it
    edited = attacker(fake, BOT).get_pull(1).get_review(review["id"])
    edited.edit(flip(review["body"]))
    assert last_line(fake.pulls[1].reviews[0]["body"]) == "<!-- VERDICT:LEO:APPROVE -->"
    gate = run_gate(fake, key=None)
    assert gate.exit_code == 1
    assert (f"ignored: review {review['id']} by @claim-bot: the review's state "
            '"CHANGES_REQUESTED" disagrees with its marker APPROVE') in gate.stdout
    again = run_pr(fake, repo, key=None)  # not "already approved"
    assert "already has our LEO:APPROVE" not in again.stderr and again.exit_code == 1


@pytest.mark.parametrize("state", ["PENDING", "APPROVED"])
def test_a_review_whose_state_carries_no_such_verdict_is_ignored(fake, tmp_path, state):
    repo, head, _ = failing(fake, tmp_path)
    review = fake.post_review(1, "claim-bot", verdict_body(head), "APPROVE", head)
    review["state"] = state
    if state == "APPROVED":  # an approval whose marker asks for changes is no approval
        review["body"] = verdict_body(head, "REQUEST_CHANGES")
    gate = run_gate(fake, key=None)
    assert gate.exit_code == 1
    assert f'the review\'s state "{state}" disagrees with its marker' in gate.stdout


def test_a_comment_review_edited_from_request_changes_to_approve_fails_its_signature(
        fake, tmp_path):
    repo, head, _ = failing(fake, tmp_path)
    assert run_pr(fake, repo, "--post-as", "comment", **as_actions()).exit_code == 1
    [review] = fake.pulls[1].reviews
    assert review["state"] == "COMMENTED"  # either verdict agrees with this state
    attacker(fake, ACTIONS).get_pull(1).get_review(review["id"]).edit(flip(review["body"]))
    gate = run_gate(fake, **as_actions())
    assert gate.exit_code == 1
    assert f"ignored: review {review['id']} by @github-actions[bot]: its signature does not " \
           "match" in gate.stdout
    again = run_pr(fake, repo, "--post-as", "comment", **as_actions())
    assert again.exit_code == 1 and "already has our" not in again.stderr


# -- comments edited within the second of posting ------------------------------------
@pytest.mark.parametrize("edit", ["flip the marker", "change the text",
                                  "take the metadata of a signed APPROVE"])
def test_a_comment_edited_within_the_same_second_does_not_count(fake, tmp_path, edit):
    repo, head, _ = failing(fake, tmp_path)
    refuse_reviews(fake)
    fake.same_second_edits = True  # GitHub then shows updated_at == created_at
    assert run_pr(fake, repo, **as_actions()).exit_code == 1
    [comment] = fake.pulls[1].comments
    body = comment["body"]
    if edit == "flip the marker":
        body = flip(body)
    elif edit == "change the text":
        body = body.replace("changes requested ❌", "approved ✅")
    else:
        approve = seal(verdict_body(head), KEY.encode()).rstrip("\n").split("\n")[-2:]
        body = "\n".join(body.rstrip("\n").split("\n")[:-2] + approve) + "\n"
    attacker(fake, ACTIONS).get_pull(1).get_issue_comment(comment["id"]).edit(body)
    assert fake.pulls[1].comments[0]["updated_at"] == fake.pulls[1].comments[0]["created_at"]
    gate = run_gate(fake, **as_actions())
    assert gate.exit_code == 1
    assert f"ignored: issue comment {comment['id']} by @github-actions[bot]: its signature " \
           "does not match" in gate.stdout


# -- (b) superseded verdicts never count again ---------------------------------------
def approve_then_request_changes(fake, tmp_path, *args: str):
    """An APPROVE (lax rubric), then a forced re-run at the same head: REQUEST_CHANGES."""
    repo, head, lax = failing(fake, tmp_path)
    assert run_pr(fake, repo, "--rubric", str(lax), *args, **as_actions()).exit_code == 0
    first = (fake.pulls[1].reviews + fake.pulls[1].comments)[0]
    original = first["body"]
    assert run_pr(fake, repo, "--force", *args, **as_actions()).exit_code == 1
    return repo, head, first, original


def test_deleting_the_newest_verdict_does_not_bring_back_an_older_approve(fake, tmp_path):
    refuse_reviews(fake, times=4)  # both verdicts are issue comments
    repo, head, first, original = approve_then_request_changes(fake, tmp_path)
    old, new = fake.pulls[1].comments
    assert "VERDICT" not in old["body"]
    assert f"Superseded by issue comment {new['id']}" in old["body"]
    attacker(fake, ACTIONS).get_pull(1).get_issue_comment(new["id"]).delete()
    assert fake.pulls[1].comments == [old]
    gate = run_gate(fake, **as_actions())
    assert gate.exit_code == 1
    assert "blocked: LEO: no valid verdict from a trusted account" in gate.stdout
    again = run_pr(fake, repo, **as_actions())  # reviews again rather than "approved"
    assert "already has our" not in again.stderr and again.exit_code == 1


def test_dismissing_the_newest_review_does_not_bring_back_an_older_approve(fake, tmp_path):
    repo, head, first, original = approve_then_request_changes(fake, tmp_path)
    old, new = fake.pulls[1].reviews
    assert (old["state"], new["state"]) == ("APPROVED", "CHANGES_REQUESTED")
    attacker(fake, BOT).get_pull(1).get_review(new["id"]).dismiss("stale")
    gate = run_gate(fake, **as_actions())
    assert gate.exit_code == 1
    assert f"ignored: review {new['id']} by @github-actions[bot]: the review was dismissed" \
        in gate.stdout
    assert "blocked: LEO: no valid verdict from a trusted account" in gate.stdout


def test_restoring_a_superseded_approve_and_stripping_the_newer_review_blocks(fake, tmp_path):
    repo, head, first, original = approve_then_request_changes(fake, tmp_path)
    old, new = fake.pulls[1].reviews
    pull = attacker(fake, ACTIONS).get_pull(1)
    pull.get_review(old["id"]).edit(original)  # the signed APPROVE, as it was first posted
    pull.get_review(new["id"]).edit("LGTM")  # the newer verdict loses its marker
    gate = run_gate(fake, **as_actions())
    assert gate.exit_code == 1
    assert (f"blocked: LEO: review {new['id']} by @github-actions[bot] requested changes at "
            f"the current head after the counted APPROVE (review {old['id']})") in gate.stdout


def test_a_copy_of_a_superseded_approve_never_counts_again(fake, tmp_path):
    repo, head, first, original = approve_then_request_changes(fake, tmp_path)
    workflow = attacker(fake, ACTIONS).get_pull(1)
    # posted soon after: the newer REQUEST_CHANGES still wins, by the time it was signed
    workflow.create_issue_comment(original)
    gate = run_gate(fake, **as_actions())
    assert gate.exit_code == 1 and "blocked: LEO: REQUEST_CHANGES at the current head" \
        in gate.stdout
    # posted an hour later: a copy, not a verdict
    fake.advance(3600)
    copy = workflow.create_issue_comment(original)
    gate = run_gate(fake, **as_actions())
    assert gate.exit_code == 1
    assert f"ignored: issue comment {copy.id} by @github-actions[bot]: signed at" in gate.stdout
    assert "a copy of an earlier verdict" in gate.stdout
