"""Where the output goes and how it looks: --format github and sarif, --output-file,
--quiet, --min-severity, --color, `check -` with --stdin-filename, long file names and the
judge's progress line."""

from __future__ import annotations

import io
import json
import os
import re
import stat
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from conftest import BASE_FILES, claim_text, git, own_claim, write_tree

from reviewer.checks import rule_doc
from reviewer.render.sarif import all_rules

HERE = Path(__file__).resolve().parent
KB = HERE.parent / "examples" / "kb"
PROPOSED = HERE.parent / "examples" / "proposed"
SOIL = PROPOSED / "soil-microbial-diversity.md"  # one error: specificity.label-title
SARIF_SCHEMA = json.loads((HERE / "fixtures" / "sarif" / "sarif-schema-2.1.0.json")
                          .read_text(encoding="utf-8"))
BROKEN = own_claim("Bus lanes cut trip times on congested arterials",
                   body="See [[Existing claim about bussess]] from a 2024 audit of 30 routes.\n",
                   confidence="proven", mood="sunny")


def cli(*args: str, **kwargs):
    from reviewer.cli import main

    return CliRunner().invoke(main, list(args), **kwargs)


@pytest.fixture
def repo(tmp_path) -> Path:
    """A git repository whose knowledge base is the folder `kb/`, with one defective claim."""
    root = tmp_path / "repo"
    write_tree(root / "kb", {**BASE_FILES,
                             ".claim-review.yaml": "schema:\n  domains: [urban-transit]\n",
                             "domains/urban-transit/Bus lanes cut trip times on congested "
                             "arterials.md": BROKEN})
    git(root, "init", "-q", "-b", "main")
    return root


BUS = "domains/urban-transit/Bus lanes cut trip times on congested arterials.md"


# -- --format github -------------------------------------------------------------------
def test_github_format_annotates_each_finding_from_the_repository_root(repo):
    result = cli("check", "--kb", str(repo / "kb"), "--no-llm", "--format", "github")
    assert result.exit_code == 1
    *annotations, summary = result.stdout.splitlines()
    assert annotations and all(a.startswith(("::error ", "::warning ", "::notice "))
                               for a in annotations)
    first = next(a for a in annotations if a.startswith("::error "))
    assert first.startswith("::error file=kb/" + BUS + ",line=")
    assert ",title=wiki_links.broken-link::" in "\n".join(annotations)
    assert "::notice " in "\n".join(annotations)  # info findings are notices
    assert summary.startswith("3 claims reviewed") and summary.endswith("REQUEST_CHANGES")


def test_github_format_escapes_what_would_end_a_property_or_start_a_command(tmp_path):
    root = write_tree(tmp_path / "kb", {"a,b: c.md": "no frontmatter\n::error::forged\n"})
    result = cli("check", "--kb", str(root), "--no-llm", "--format", "github",
                 str(root / "a,b: c.md"))
    assert "file=a%2Cb%3A c.md,line=1" in result.stdout
    assert [line for line in result.stdout.splitlines() if line.startswith("::")] == \
        [line for line in result.stdout.splitlines() if line.startswith("::error file=")]


def test_github_format_quiet_prints_the_annotations_only(repo):
    result = cli("check", "--kb", str(repo / "kb"), "--no-llm", "--format", "github", "-q")
    assert all(line.startswith("::") for line in result.stdout.splitlines())


# -- --format sarif --------------------------------------------------------------------
def sarif_of(*args: str) -> dict:
    result = cli("check", "--no-llm", "--format", "sarif", *args)
    assert result.exit_code in (0, 1), result.output
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    return log


def test_sarif_validates_against_the_official_schema_and_lists_every_rule():
    log = sarif_of("--kb", str(KB), *map(str, sorted(PROPOSED.glob("*.md"))))
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == all_rules()
    broken = rules[all_rules().index("wiki_links.broken-link")]
    assert broken["help"]["text"].startswith(rule_doc("wiki_links.broken-link"))
    assert broken["defaultConfiguration"] == {"level": "error"}
    assert {r["ruleId"] for r in run["results"]} >= {"wiki_links.broken-link",
                                                      "specificity.label-title"}
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1
    assert run["properties"]["verdict"] == "REQUEST_CHANGES"


def test_sarif_fingerprints_and_baseline_state(repo):
    kb = repo / "kb"
    assert cli("baseline", "--kb", str(kb)).exit_code == 0
    write_tree(kb, {"domains/urban-transit/Ferry lanes cut trip times on congested rivers.md":
                    own_claim("Ferry lanes cut trip times on congested rivers",
                              confidence="certainish")})
    log = sarif_of("--kb", str(kb))
    results = log["runs"][0]["results"]
    states = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].rsplit("/", 1)
               [-1].split("%20")[0], r["ruleId"]): r["baselineState"] for r in results}
    assert states[("Ferry", "schema.invalid-confidence")] == "new"
    assert states[("Bus", "wiki_links.broken-link")] == "unchanged"
    broken = next(r for r in results if r["ruleId"] == "wiki_links.broken-link")
    assert broken["partialFingerprints"] == {
        "claimReview/v1": "wiki_links.broken-link|target=existing claim about bussess"}
    uri = broken["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "kb/" + BUS.replace(" ", "%20")  # from the repository root, encoded


def test_sarif_keeps_two_results_with_one_fingerprint_apart(tmp_path):
    body = "See [[Nowhere at all]] in 2024.\n\nAnd again [[Nowhere at all]].\n"
    root = write_tree(tmp_path / "kb", {**BASE_FILES, "Twice broken links stay two results.md":
                                        own_claim("Twice broken links stay two results",
                                                  body=body)})
    results = sarif_of("--kb", str(root))["runs"][0]["results"]
    prints = [r["partialFingerprints"]["claimReview/v1"] for r in results
              if r["ruleId"] == "wiki_links.broken-link"]
    assert prints == ["wiki_links.broken-link|target=nowhere at all",
                      "wiki_links.broken-link|target=nowhere at all#2"]


# -- --output-file ---------------------------------------------------------------------
def test_output_file_is_written_whole_and_stdout_stays_empty(tmp_path):
    target = tmp_path / "out" / "review.json"
    target.parent.mkdir()
    result = cli("check", "--kb", str(KB), "--no-llm", "--format", "json",
                 "--output-file", str(target), str(SOIL))
    assert result.exit_code == 1 and result.stdout == ""
    assert json.loads(target.read_text(encoding="utf-8"))["verdict"] == "REQUEST_CHANGES"
    assert os.listdir(target.parent) == ["review.json"]  # no temporary file left behind
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600


def test_output_file_replaces_an_old_one_atomically_keeping_its_mode(tmp_path):
    target = tmp_path / "review.txt"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o640)
    cli("check", "--kb", str(KB), "--no-llm", "--output-file", str(target), str(SOIL))
    assert target.read_text(encoding="utf-8").endswith("Verdict: REQUEST_CHANGES\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_output_file_in_a_missing_folder_is_a_usage_error(tmp_path):
    result = cli("check", "--kb", str(KB), "--no-llm", "--output-file",
                 str(tmp_path / "nowhere" / "x.txt"), str(SOIL))
    assert result.exit_code == 2 and "cannot write the output" in result.stderr


# -- --quiet and --min-severity --------------------------------------------------------
def test_quiet_prints_only_the_findings_and_nothing_on_success():
    clean = PROPOSED / ("expand-and-contract-schema-migrations-reduce-outage-risk-compared-"
                        "with-single-step-database-changes.md")
    quiet_clean = cli("check", "--kb", str(KB), "--no-llm", "-q", str(clean))
    assert (quiet_clean.exit_code, quiet_clean.output) == (0, "")
    quiet = cli("check", "--kb", str(KB), "--no-llm", "--quiet", str(SOIL))
    assert quiet.exit_code == 1
    lines = quiet.stdout.splitlines()
    assert len(lines) == 2 and lines[0].endswith(SOIL.name)
    assert re.match(r"  12: error specificity\.label-title ", lines[1])


def test_min_severity_hides_lower_findings_but_not_from_the_counts_or_verdict(repo):
    kb = repo / "kb"
    full = cli("check", "--kb", str(kb), "--no-llm")
    shown = cli("check", "--kb", str(kb), "--no-llm", "--min-severity", "error")
    assert full.exit_code == shown.exit_code == 1
    assert " info " in full.stdout and " warning " not in shown.stdout
    assert " info " not in shown.stdout
    summary = shown.stdout.splitlines()[-1]
    assert summary.startswith(full.stdout.splitlines()[-1].split(". Verdict")[0])
    assert re.search(r", \d+ below error not shown\. Verdict: REQUEST_CHANGES$", summary)
    data = json.loads(cli("check", "--kb", str(kb), "--no-llm", "--format", "json",
                          "--min-severity", "warning").stdout)
    assert {f["severity"] for r in data["files"] for f in r["findings"]} <= {"error", "warning"}
    assert data["summary"]["by_severity"]["info"] == data["display"]["hidden"] > 0


# -- --color ---------------------------------------------------------------------------
@pytest.mark.parametrize(("choice", "env", "tty", "expected"), [
    ("auto", {}, True, True), ("auto", {}, False, False),
    ("auto", {"NO_COLOR": "1"}, True, False), ("auto", {"NO_COLOR": ""}, True, True),
    ("auto", {"FORCE_COLOR": "1"}, False, True), ("auto", {"FORCE_COLOR": ""}, False, False),
    ("auto", {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False, False),
    ("auto", {"TERM": "dumb"}, True, False),
    ("always", {"NO_COLOR": "1"}, False, True), ("never", {"FORCE_COLOR": "1"}, True, False),
])
def test_colour_follows_the_option_then_no_color_then_force_color(choice, env, tty, expected):
    from reviewer.cli import use_color

    class Stream:
        def isatty(self):
            return tty

    assert use_color(choice, Stream(), env) is expected


def test_colour_reaches_a_pipe_when_forced(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\x1b[" in cli("check", "--kb", str(KB), "--no-llm", str(SOIL)).stdout
    assert "\x1b[" not in cli("check", "--kb", str(KB), "--no-llm", "--color", "never",
                              str(SOIL)).stdout
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in cli("check", "--kb", str(KB), "--no-llm", str(SOIL)).stdout


# -- check - ---------------------------------------------------------------------------
def test_check_reads_one_note_from_stdin_as_the_named_file(kb):
    text = own_claim("Bus lanes cut trip times on congested arterials",
                     body="Since [[Existing claim about buses]], a 2024 trial found 14%.\n")
    result = cli("check", "--kb", str(kb), "--no-llm", "--format", "json", "-",
                 "--stdin-filename", str(kb / "domains/urban-transit/Bus lanes.md"), input=text)
    data = json.loads(result.stdout)
    assert [f["path"] for f in data["files"]] == ["domains/urban-transit/Bus lanes.md"]
    assert "wiki_links.broken-link" not in {f["rule"] for f in data["files"][0]["findings"]}
    assert "schema.title-mismatch" in {f["rule"] for f in data["files"][0]["findings"]}


def test_stdin_takes_the_place_of_the_file_it_is_named_as(kb):
    """An editor's unsaved buffer: not a duplicate of its own saved copy."""
    name = "domains/urban-transit/Signal priority shortens bus trips on long-cycle corridors.md"
    result = cli("check", "--kb", str(kb), "--no-llm", "--format", "json", "-",
                 "--stdin-filename", str(kb / name), input=BASE_FILES[name])
    rules = {f["rule"] for r in json.loads(result.stdout)["files"] for f in r["findings"]}
    assert "duplication.duplicate" not in rules and result.exit_code == 0


def test_stdin_usage_errors(kb):
    assert cli("check", "--kb", str(kb), "-", str(kb), input="x").exit_code == 2
    no_dash = cli("check", "--kb", str(kb), "--stdin-filename", "a.md")
    assert no_dash.exit_code == 2 and "--stdin-filename needs '-'" in no_dash.stderr


# -- long file names -------------------------------------------------------------------
def test_a_200_character_file_name_stands_once_as_a_header(kb):
    title = ("Dedicated bus lanes on congested arterials cut peak-hour travel times for riders "
             "in mid-sized cities where signal priority and all-door boarding were introduced "
             "in the same year of the same programme")
    assert len(title) >= 190
    name = f"domains/urban-transit/{title}.md"
    write_tree(kb, {name: claim_text(title, body="See [[Nowhere]] and [[Elsewhere]].\n",
                                     confidence="proven", description=f"{title} in 2024")})
    out = cli("check", "--kb", str(kb), "--no-llm", str(kb / name)).stdout
    lines = out.splitlines()
    assert len(name) > 200 and lines[0] == name
    assert sum(name in line for line in lines) == 1
    findings = lines[1:lines.index("")]
    assert len(findings) >= 3 and all(re.match(r"  +\d+: (error|warning|info) ", f)
                                      for f in findings)


# -- the judge's progress --------------------------------------------------------------
def test_progress_line_on_a_terminal_only():
    from reviewer.cli import progress_line
    from reviewer.judge import Progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    assert progress_line(io.StringIO()) is None
    stream = Terminal()
    show = progress_line(stream)
    show(Progress(1, 2, 1234, 0.01234))
    show(Progress(2, 2, 2500, None))
    assert stream.getvalue() == (
        "\rclaim-review: judged 1/2 claims, 1,234 tokens, ~$0.0123\x1b[K"
        "\rclaim-review: judged 2/2 claims, 2,500 tokens, cost unknown\x1b[K\n")
