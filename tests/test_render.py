"""Renderers: one golden file per format pins the full output; the markdown stays inert.

Regenerate the goldens after an intended change with `UPDATE_GOLDEN=1 pytest tests/test_render.py`,
then read the diff before committing it.
"""

import json
import os
import re
from pathlib import Path

import pytest
from conftest import add_claim, own_claim, run_check

from reviewer.checks import BY_ID
from reviewer.findings import SEVERITIES
from reviewer.render import render
from reviewer.render.text import render_text
from reviewer.review import APPROVE, REQUEST_CHANGES
from reviewer.rubric import builtin_dir

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
KB = HERE / "fixtures" / "render" / "kb"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.fixture
def fixed_review():
    return run_check(KB, [KB / "domains"])


def stable(text: str) -> str:
    """Rubric origins are absolute paths; the goldens must not depend on the checkout."""
    return text.replace(str(builtin_dir()), "<builtin>").replace(str(KB), "<kb>")


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; see the docstring"


@pytest.mark.parametrize(("fmt", "name"), [("text", "review.txt"), ("markdown", "review.md"),
                                           ("json", "review.json")])
def test_golden(fixed_review, fmt, name):
    assert_golden(name, stable(render(fixed_review, fmt)))


def test_fixed_review_covers_every_check_and_severity(fixed_review):
    assert fixed_review.verdict == REQUEST_CHANGES
    assert {f.check for f in fixed_review.findings} == set(BY_ID)
    assert {f.severity for f in fixed_review.findings} == set(SEVERITIES)
    assert fixed_review.summary()["skipped"] == 1  # the map


def test_text_colour_only_when_asked(fixed_review):
    assert "\x1b[" not in render(fixed_review, "text")
    assert "\x1b[" in render(fixed_review, "text", color=True)


def test_markdown_ends_with_the_verdict_marker(fixed_review):
    body = render(fixed_review, "markdown")
    assert body.endswith("\n")
    assert body.rstrip("\n").split("\n")[-1] == "<!-- VERDICT:LEO:REQUEST_CHANGES -->"
    assert body.count("<!-- VERDICT:") == 1


def test_json_contract(fixed_review):
    data = json.loads(render(fixed_review, "json"))
    assert data["verdict"] == REQUEST_CHANGES
    assert data["reviewer"] == {"name": "claim-review", "key": "LEO"}
    assert [f["path"] for f in data["files"]] == sorted(f["path"] for f in data["files"])
    required = {"check", "rule", "severity", "line", "message"}
    counted = {check: dict.fromkeys(SEVERITIES, 0) for check in BY_ID}
    for report in data["files"]:
        assert not Path(report["path"]).is_absolute()
        for finding in report["findings"]:
            assert required <= set(finding), finding
            assert finding["rule"].startswith(finding["check"] + ".")
            assert isinstance(finding["line"], int) and finding["line"] >= 1
            counted[finding["check"]][finding["severity"]] += 1
            if finding["check"] == "wiki_links":
                assert "target" in finding
            if finding["rule"] == "duplication.duplicate":
                assert finding["duplicate_of"] == ("domains/urban-transit/Dedicated bus lanes cut "
                                                   "peak-hour bus travel times on congested "
                                                   "arterials.md")
    assert data["summary"]["by_check"] == counted
    assert data["summary"]["by_severity"] == {s: sum(c[s] for c in counted.values())
                                              for s in SEVERITIES}


HOSTILE = "<!-- VERDICT:LEO:APPROVE --> --> @org/team <img src=x> `tick` ```"


def test_markdown_of_hostile_content_stays_inert(kb):
    title = "Bus lanes cut trip times " + HOSTILE
    body = f"See [[{HOSTILE} missing note]] and [[Existing claim about buses]] from 2024.\n"
    path = add_claim(kb, f"domains/urban-transit/{HOSTILE.replace('/', ' ')}.md",
                     own_claim(title, body=body, description=HOSTILE, source=HOSTILE,
                               confidence="proven"))
    result = run_check(kb, [path])
    assert result.verdict == REQUEST_CHANGES
    body = render(result, "markdown")
    lines = body.rstrip("\n").split("\n")
    assert lines[-1] == "<!-- VERDICT:LEO:REQUEST_CHANGES -->"
    assert body.count("<!-- VERDICT:") == 1
    assert re.search(r"verdict\s*:", "\n".join(lines[:-1]), re.IGNORECASE) is None
    assert "-->" not in "\n".join(lines[:-1])
    assert "<img" not in body and "<!--" not in "\n".join(lines[:-1])
    assert "@org" not in body
    assert "```" not in body


def test_clean_review_approves_in_every_format(kb):
    path = add_claim(kb, "domains/urban-transit/Bus lanes cut trip times on congested "
                         "arterials.md", own_claim("Bus lanes cut trip times on congested "
                                                   "arterials"))
    result = run_check(kb, [path])
    assert result.verdict == APPROVE
    assert render(result, "text").endswith("Verdict: APPROVE\n")
    assert render(result, "markdown").endswith("\n<!-- VERDICT:LEO:APPROVE -->\n")
    assert json.loads(render(result, "json"))["verdict"] == APPROVE


def test_text_output_cannot_forge_log_lines_or_escape_sequences(tmp_path):
    """A CI log runs `::command::` found at a line start; a terminal obeys escape codes."""
    root = tmp_path / "kb"
    root.mkdir()
    evil = ("---\ntype: claim\ndomain: \"x\\n::error::forged\\u001b[2J\"\ndescription: d\n"
            "confidence: likely\nsource: s\ncreated: 2026-01-01\n---\n# T\n")
    (root / "::warning::root.md").write_text(evil, encoding="utf-8")
    out = render_text(run_check(root, [root / "::warning::root.md"]))
    assert not [line for line in out.splitlines() if line.startswith("::")]
    assert "\x1b" not in out and "\\x1b" in out and "\\x0a::error::forged" in out


def test_a_header_longer_than_the_limit_still_ends_in_the_marker(kb):
    from reviewer.render.markdown import render_markdown

    result = run_check(kb, [add_claim(kb, "domains/urban-transit/Soil carbon.md",
                                      own_claim("Soil carbon"))])
    result.notes = ["a long note " * 30] * 20
    body = render_markdown(result, max_chars=2000, metadata={"head_sha": "a" * 40})
    assert len(body) <= 2000 and "too long to post" in body
    lines = body.rstrip("\n").split("\n")
    assert lines[-1] == "<!-- VERDICT:LEO:REQUEST_CHANGES -->"
    assert lines[-2].startswith("<!-- claim-review-meta: ")
