"""Shell completion: click's, with rule names completed for `explain`."""

from __future__ import annotations

from click.testing import CliRunner

from reviewer.checks import ALL_RULES, BY_ID
from reviewer.cli import complete_rule, main


def names(incomplete: str) -> list[str]:
    return [item.value for item in complete_rule(None, None, incomplete)]


def test_explain_completes_checks_and_rules_long_and_short():
    assert names("wiki") == ["wiki_links", *[r for r in ALL_RULES if r.startswith("wiki")],
                             "wiki_links.judge", "wiki_links.internal-error"]
    assert names("broken-l") == ["broken-link"]
    assert set(BY_ID) | set(ALL_RULES) <= set(names(""))
    assert names("zzz") == []


def complete(words: str, shell: str = "bash") -> str:
    env = {"_CLAIM_REVIEW_COMPLETE": f"{shell}_complete", "COMP_WORDS": words,
           "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))}
    result = CliRunner().invoke(main, [], env=env, prog_name="claim-review")
    assert result.exit_code == 0, result.output
    return result.output


def test_bash_completes_a_rule_for_explain():
    assert complete("claim-review explain broken-") == \
        "plain,broken-link\nplain,broken-heading\nplain,broken-source-link\n"


def test_bash_completes_the_commands():
    out = complete("claim-review ")
    for command in ("check", "diff", "explain", "fix", "init", "rubric"):
        assert f"plain,{command}\n" in out


def test_the_activation_script_is_click_s():
    result = CliRunner().invoke(main, [], env={"_CLAIM_REVIEW_COMPLETE": "bash_source"},
                                prog_name="claim-review")
    assert "_claim_review_completion()" in result.output
    assert "complete -o nosort -F _claim_review_completion claim-review" in result.output
