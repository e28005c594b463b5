"""`claim-review audit`: reports, shards, merge, trend, progress, and the judge through the
Message Batches API of the fake server (tests/fakes/anthropic_server.py) with the real
`anthropic` client. No test here touches the network."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import add_claim, own_claim, use_fake_judge
from fakes.anthropic_server import (
    answer,
    error,
    errored,
    structured,
    succeeded,
    text,
)

from reviewer import audit as audit_module
from reviewer import batch as batch_module
from reviewer.audit import BarProgress, LineProgress, progress_for, shard_of
from reviewer.cli import main

ROOT = Path(__file__).resolve().parent.parent
RUBRIC = """\
schema:
  domains: [urban-transit, soil-science]
judge:
  timeout: 2
  backoff: 0.01
  retries: 1
"""
CLEAN = "Bus lanes cut trip times on congested arterials"
LABEL = "Bus lanes"  # specificity.label-title
BROKEN = "Transit passes raise ridership among students in winter"
DUPLICATE = "Signal priority shortens bus trips on long cycle corridors"  # of a conftest claim
UT = "domains/urban-transit/"


def audit(*args: str) -> object:
    return CliRunner().invoke(main, ["audit", *args])


def report(folder: Path) -> dict:
    return json.loads((folder / "claim-review-audit.json").read_text(encoding="utf-8"))


def claim(kb: Path, title: str, body: str | None = None, **fields) -> Path:
    return add_claim(kb, f"{UT}{title}.md", own_claim(title, body, **fields))


@pytest.fixture
def base(kb: Path) -> Path:
    """The conftest base (two claims) with a label title, a broken link, and a duplicate."""
    (kb / ".claim-review.yaml").write_text(RUBRIC, encoding="utf-8")
    claim(kb, CLEAN)
    claim(kb, LABEL)
    claim(kb, BROKEN, body="Since [[Nowhere to be found]], more riders. A 2024 survey of "
                           "4,000 students found a 12% rise (Lee, 2024).\n")
    add_claim(kb, f"{UT}{DUPLICATE}.md", own_claim(
        DUPLICATE, description="Measured across 40 corridors, the gain comes from fewer "
                               "signal stops rather than higher top speeds"))
    add_claim(kb, "maps/transit.md", "---\ntype: map\n---\n\n# Transit\n")
    return kb


# -- the report ----------------------------------------------------------------------
def test_report_counts_rules_severities_and_worst_files(base, tmp_path):
    out = tmp_path / "out"
    result = audit("--kb", str(base), "--output-dir", str(out))
    assert result.exit_code == 0, result.output
    data = report(out)
    assert (data["kind"], data["format"], data["date"]) == ("claim-review-audit", 1,
                                                             "2026-06-01")
    assert data["shards"] == {"count": 1, "covered": [1]} and data["incomplete"] is None
    summary = data["summary"]
    assert (summary["claims"], summary["skipped"], summary["notes"]) == (6, 1, 7)
    assert data["by_rule"]["specificity.label-title"] == {"error": 1, "warning": 0, "info": 0,
                                                          "total": 1}
    assert data["by_rule"]["wiki_links.broken-link"]["error"] == 1
    assert data["by_rule"]["duplication.duplicate"]["error"] == 1
    assert summary["by_severity"]["error"] == sum(c["error"] for c in data["by_rule"].values())
    assert summary["findings"] == sum(c["total"] for c in data["by_rule"].values())
    assert summary["by_check"]["specificity"]["error"] == 1
    worst = data["worst_files"]
    assert {w["path"] for w in worst} >= {f"{UT}{LABEL}.md", f"{UT}{BROKEN}.md"}
    assert [(w["error"], w["warning"]) for w in worst] == sorted(
        [(w["error"], w["warning"]) for w in worst], reverse=True)
    label = next(f for f in data["files"] if f["path"] == f"{UT}{LABEL}.md")
    assert [(f["line"], f["rule"]) for f in label["findings"]] == \
        [(11, "specificity.label-title")]
    assert "status" not in label["findings"][0]
    assert data["judge"]["ran"] is False and data["judge"]["mode"] == "off"
    assert data["judge"]["reason"] == audit_module.NOT_ASKED
    markdown = (out / "claim-review-audit.md").read_text(encoding="utf-8")
    assert markdown.startswith("# claim-review audit\n\n**6** claims reviewed (1 other note), "
                               f"**{summary['findings']}** findings in ")
    assert "| `specificity.label-title` | 1 | 0 | 0 | 1 |" in markdown
    assert f"| `{UT}{LABEL}.md` | 1 | 0 |" in markdown
    assert "## Trend" not in markdown
    assert summary["by_severity"] == {"error": 3, "warning": 1, "info": 2}
    assert result.stdout.splitlines()[0] == (
        f"6 claims reviewed (1 other note), 6 findings in {summary['files_with_findings']} "
        "files: 3 errors, 1 warning, 2 info")
    assert result.stdout.splitlines()[1].startswith("worst file: ")
    assert result.stdout.splitlines()[-1] == (f"wrote {out / 'claim-review-audit.md'} and "
                                              f"{out / 'claim-review-audit.json'}")


def test_plain_progress_lines_when_not_on_a_terminal(base, tmp_path):
    result = audit("--kb", str(base), "--output-dir", str(tmp_path / "out"))
    lines = result.stderr.splitlines()
    assert lines[:3] == ["claim-review audit: reading the base ...",
                         "claim-review audit: comparing titles ...",
                         "claim-review audit: checking claims: 0/6 claims (0%)"]
    assert lines[-1] == "claim-review audit: checking claims: 6/6 claims (100%)"
    assert not any("\r" in line for line in lines)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_on_a_terminal_and_plain_lines_in_ci():
    assert isinstance(progress_for(Terminal(), {}), BarProgress)
    assert isinstance(progress_for(Terminal(), {"CI": "true"}), LineProgress)
    assert isinstance(progress_for(io.StringIO(), {}), LineProgress)
    stream = Terminal()
    bar = BarProgress(stream)
    for done in range(501):
        bar("checks", done, 500)
    bar.status("batch msgbatch_1: in_progress, 3 processing (0s)")
    bar.close()
    shown = stream.getvalue()
    assert "checking claims" in shown and "500/500" in shown and "\r" in shown
    assert shown.count("\r") < 120  # redrawn in steps, not once per claim
    assert shown.endswith("\r\x1b[Kbatch msgbatch_1: in_progress, 3 processing (0s)\n")
    lines: list[str] = []
    plain = LineProgress(lines.append)
    for done in range(501):
        plain("checks", done, 500)
    assert len(lines) == 11 and lines[5] == "checking claims: 250/500 claims (50%)"


# -- shards and merging --------------------------------------------------------------
def claim_paths(kb: Path) -> list[str]:
    return sorted(p.relative_to(kb).as_posix() for p in kb.glob("domains/**/*.md"))


def test_shards_are_disjoint_cover_the_base_and_are_stable():
    paths = [f"domains/d{i % 7}/claim number {i}.md" for i in range(500)]
    for count in (1, 2, 5, 16):
        shards = [{p for p in paths if shard_of(p, count) == i} for i in range(1, count + 1)]
        assert set().union(*shards) == set(paths)
        assert sum(len(s) for s in shards) == len(paths)  # disjoint
        if count == 5:
            assert all(60 <= len(s) <= 140 for s in shards)  # and roughly even
    # the same shard on every machine and Python run (not the salted built-in hash): the
    # first 8 bytes of the path's SHA-256 (here dabbef108fc7a186), modulo N, plus 1
    assert shard_of("domains/d0/claim number 0.md", 16) == 0xdabbef108fc7a186 % 16 + 1 == 7
    script = "from reviewer.audit import shard_of; print(shard_of('a/b.md', 9))"
    runs = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}, check=True).stdout
            for seed in ("1", "2")}
    assert runs == {f"{shard_of('a/b.md', 9)}\n"}


def test_merged_shards_equal_the_whole_run(base, tmp_path):
    """Even a duplicate pair split across shards is reported once, as in the whole run."""
    original = f"{UT}Signal priority shortens bus trips on long-cycle corridors.md"
    count = next(n for n in range(2, 20)
                 if shard_of(original, n) != shard_of(f"{UT}{DUPLICATE}.md", n))
    assert audit("--kb", str(base), "--output-dir", str(tmp_path / "whole")).exit_code == 0
    for i in range(1, count + 1):
        result = audit("--kb", str(base), "--output-dir", str(tmp_path / f"s{i}"),
                       "--shard", f"{i}/{count}")
        assert result.exit_code == 0, result.output
    shards = [report(tmp_path / f"s{i}") for i in range(1, count + 1)]
    assert sum(s["summary"]["claims"] for s in shards) == len(claim_paths(base))
    reviewed = [{f["path"] for f in s["files"]} for s in shards]
    assert all(not (a & b) for i, a in enumerate(reviewed) for b in reviewed[i + 1:])
    result = audit("--merge", *(str(tmp_path / f"s{i}" / "claim-review-audit.json")
                                for i in range(1, count + 1)),
                   "--output-dir", str(tmp_path / "merged"))
    assert result.exit_code == 0, result.output
    whole, merged = report(tmp_path / "whole"), report(tmp_path / "merged")
    assert merged["shards"] == {"count": count, "covered": list(range(1, count + 1))}
    for key in ("files", "by_rule", "worst_files", "summary", "incomplete"):
        assert merged[key] == whole[key], key
    duplicates = [(file["path"], f["duplicate_of"]) for file in merged["files"]
                  for f in file["findings"] if f["rule"] == "duplication.duplicate"]
    assert duplicates == [(original, f"{UT}{DUPLICATE}.md")]  # on the later path only


def test_merge_with_a_missing_shard_is_incomplete(base, tmp_path):
    for i in (1, 3):
        audit("--kb", str(base), "--output-dir", str(tmp_path / f"s{i}"), "--shard", f"{i}/3")
    result = audit("--merge", str(tmp_path / "s1" / "claim-review-audit.json"),
                   str(tmp_path / "s3" / "claim-review-audit.json"),
                   "--output-dir", str(tmp_path / "merged"))
    assert result.exit_code == 3
    merged = report(tmp_path / "merged")
    assert merged["incomplete"].startswith("shard 2 of 3 missing")
    assert "> **Incomplete:** shard 2 of 3 missing" in \
        (tmp_path / "merged" / "claim-review-audit.md").read_text(encoding="utf-8")


def test_merge_refuses_overlaps_other_rubrics_and_other_files(base, tmp_path):
    audit("--kb", str(base), "--output-dir", str(tmp_path / "a"), "--shard", "1/2")
    one = str(tmp_path / "a" / "claim-review-audit.json")
    result = audit("--merge", one, one, "--output-dir", str(tmp_path / "m"))
    assert result.exit_code == 2 and "shard 1/2 is in more than one report" in result.stderr
    (base / ".claim-review.yaml").write_text(RUBRIC + "verdict:\n  fail_on: warning\n",
                                             encoding="utf-8")
    audit("--kb", str(base), "--output-dir", str(tmp_path / "b"), "--shard", "2/2")
    result = audit("--merge", one, str(tmp_path / "b" / "claim-review-audit.json"))
    assert result.exit_code == 2 and "different rubrics" in result.stderr
    result = audit("--merge", str(base / ".claim-review.yaml"))
    assert result.exit_code == 2 and "not a readable JSON report" in result.stderr
    result = audit("--kb", str(base), "--shard", "3/2")
    assert result.exit_code == 2 and "--shard '3/2': expected I/N" in result.stderr


# -- the trend -----------------------------------------------------------------------
def test_compare_gives_the_trend_per_rule(base, tmp_path):
    assert audit("--kb", str(base), "--output-dir", str(tmp_path / "before")).exit_code == 0
    (base / f"{UT}{LABEL}.md").unlink()  # one label title fewer
    claim(base, "Ferry fares fall when river crossings get a second operator",
          body="Since [[Missing premise]] and [[Another missing one]], fares fall. A 2022 "
               "study of 9 crossings (Ode, 2022).\n")  # two broken links more
    result = audit("--kb", str(base), "--output-dir", str(tmp_path / "now"),
                   "--compare", str(tmp_path / "before" / "claim-review-audit.json"))
    assert result.exit_code == 0, result.output
    trend = report(tmp_path / "now")["trend"]
    rules = {r["rule"]: r for r in trend["rules"]}
    assert rules["wiki_links.broken-link"] == {"rule": "wiki_links.broken-link", "before": 1,
                                               "now": 3, "delta": 2}
    assert rules["specificity.label-title"] == {"rule": "specificity.label-title",
                                                "before": 1, "now": 0, "delta": -1}
    assert trend["rules"][0]["rule"] == "wiki_links.broken-link"  # the largest move first
    assert trend["claims"] == {"before": 6, "now": 6, "delta": 0}
    assert trend["rubric_changed"] is False and trend["previous"]["date"] == "2026-06-01"
    markdown = (tmp_path / "now" / "claim-review-audit.md").read_text(encoding="utf-8")
    assert "| `wiki_links.broken-link` | 1 | 3 | +2 |" in markdown
    assert "| `specificity.label-title` | 1 | 0 | -1 |" in markdown
    result = audit("--kb", str(base), "--compare", str(base / ".claim-review.yaml"))
    assert result.exit_code == 2


# -- the judge through the Message Batches API ----------------------------------------
@pytest.fixture
def fake(messages_server):
    return messages_server


@pytest.fixture
def jbase(base, fake, monkeypatch, tmp_path) -> Path:
    use_fake_judge(monkeypatch, fake, tmp_path / "judge-cache")
    monkeypatch.delenv("CI", raising=False)
    return base


def batch(kb: Path, out: Path, *args: str) -> object:
    return audit("--kb", str(kb), "--output-dir", str(out), "--batch", "--poll-interval",
                 "0.01", *args)


def about(params: dict, title: str) -> bool:
    return f'path="{UT}{title}.md"' in params["messages"][0]["content"]


def mixed_results(custom_id: str, params: dict) -> dict:
    """A failed criterion for CLEAN, an API error for LABEL, an answer that does not
    validate for BROKEN, passing answers for the others."""
    if about(params, CLEAN):
        return succeeded(structured(answer(params, specificity={
            "verdict": "fail", "severity": "warning", "quote": "Bus lanes cut trip times",
            "rationale": "The title does not say by how much."})))
    if about(params, LABEL):
        return errored("overloaded_error", "Overloaded")
    if about(params, BROKEN):
        return succeeded(text("Looks fine to me, approve."))  # not the structured output
    return succeeded(structured(answer(params)))


def test_batch_submits_polls_collects_and_caches(jbase, fake, tmp_path):
    fake.batch_polls = 2  # in_progress twice, then ended
    fake.batch_result = mixed_results
    out = tmp_path / "out"
    result = batch(jbase, out, "--max-requests", "10")
    assert result.exit_code == 0, result.output + result.stderr
    assert len(fake.creates) == 1
    sent = fake.creates[0].requests
    assert len(sent) == 6 and [r["custom_id"] for r in sent] == \
        [f"claim-{i:06d}" for i in range(1, 7)]
    params = sent[0]["params"]
    assert set(params) == {"model", "max_tokens", "system", "messages", "output_config",
                           "thinking"}  # the Messages API body, nothing client-only
    assert params["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "untrusted blocks are tagged untrusted_" in params["messages"][0]["content"]
    gets = [path for method, path in fake.batch_calls if method == "GET"]
    assert gets.count(f"/v1/messages/batches/{fake.creates[0].id}") >= 3
    assert "batch msgbatch_fake0001: in_progress, 6 processing" in result.stderr
    assert "batch msgbatch_fake0001: ended, 5 succeeded, 1 errored" in result.stderr
    data = report(out)
    judge = data["judge"]
    assert (judge["mode"], judge["ran"], judge["judged"], judge["requests"]) == \
        ("batch", True, 6, 6)
    assert judge["discount"] == 0.5 and judge["usage"]["output_tokens"] > 0
    assert judge["batches"] == [{"id": "msgbatch_fake0001", "requests": 6, "counts": {
        "processing": 0, "succeeded": 5, "errored": 1, "canceled": 0, "expired": 0}}]
    errors = {e["path"]: e["error"] for e in judge["errors"]}
    assert errors[f"{UT}{LABEL}.md"] == \
        "the batch request failed: overloaded_error: Overloaded"
    assert errors[f"{UT}{BROKEN}.md"].startswith(
        "the answer did not validate: the answer is not the structured JSON output")
    assert len(errors) == 2
    assert data["by_rule"]["specificity.judge"]["warning"] == 1
    finding = next(f for file in data["files"] if file["path"] == f"{UT}{CLEAN}.md"
                   for f in file["findings"] if f["rule"] == "specificity.judge")
    assert finding["source"] == "judge" and finding["quote"] == "Bus lanes cut trip times"
    assert not (out / audit_module.STATE_NAME).exists()  # finished: nothing to resume
    # again: the four valid answers come from the local cache; only the two failures go out
    fake.batch_result = lambda custom_id, params: succeeded(structured(answer(params)))
    result = batch(jbase, out, "--max-requests", "10")
    assert result.exit_code == 0
    assert len(fake.creates) == 2 and len(fake.creates[1].requests) == 2
    judge = report(out)["judge"]
    assert (judge["cache_hits"], judge["requests"], judge["errors"]) == (4, 2, [])


def test_dry_run_prints_the_estimate_and_sends_nothing(jbase, fake, tmp_path):
    out = tmp_path / "out"
    result = batch(jbase, out, "--dry-run", "--max-requests", "10")
    assert result.exit_code == 0, result.output + result.stderr
    assert fake.batch_calls == [] and fake.requests == []
    assert not out.exists()
    lines = result.stdout.splitlines()
    assert lines[0] == ("batch judge: 6 claims, 0 answered by the local result cache, "
                        "6 to send")
    assert lines[1].startswith("estimate: 6 requests, ~") and \
        "at most 12,288 output tokens (2,048 per answer)" in lines[1]
    assert "at the batch price (50% of judge.pricing for claude-sonnet-5-5)" in lines[1]
    assert lines[-1] == "dry run: nothing was sent"
    # the cost follows from the tokens: sonnet at $2 / $10 per million, halved
    tokens = int(lines[1].split("~")[1].split(" input")[0].replace(",", ""))
    shown = float(lines[1].split("tokens (2,048 per answer), ~$")[1].split(" ")[0])
    assert shown == pytest.approx((tokens * 2 + 12_288 * 10) / 1e6 / 2, abs=0.006)
    # no key needed to estimate
    result = CliRunner(env={"ANTHROPIC_API_KEY": None}).invoke(
        main, ["audit", "--kb", str(jbase), "--batch", "--dry-run", "--output-dir", str(out)])
    assert result.exit_code == 0 and "estimate: 6 requests" in result.stdout


def test_max_requests_and_max_cost_send_only_what_fits(jbase, fake, tmp_path):
    out = tmp_path / "out"
    result = batch(jbase, out, "--max-requests", "2")
    assert result.exit_code == 0, result.output + result.stderr
    assert [len(b.requests) for b in fake.creates] == [2]
    assert "cap: --max-requests 2: sending 2 (~$" in result.stdout
    assert "4 claims left out, from" in result.stdout
    judge = report(out)["judge"]
    assert judge["judged"] == 2 and len(judge["left_out"]) == 4
    assert {e["reason"] for e in judge["left_out"]} == {"--max-requests 2"}
    sent = {p for p in claim_paths(jbase) for r in fake.creates[0].requests
            if f'path="{p}"' in r["params"]["messages"][0]["content"]}
    assert sent.isdisjoint(e["path"] for e in judge["left_out"])
    assert sorted(sent) == claim_paths(jbase)[:2]  # in path order
    assert "Left out (not judged this time): 4." in \
        (out / "claim-review-audit.md").read_text(encoding="utf-8")
    # the default cap is the rubric's judge.max_claims; a cost cap of nothing sends nothing
    (jbase / ".claim-review.yaml").write_text(RUBRIC + "  max_claims: 1\n", encoding="utf-8")
    result = batch(jbase, out)
    assert "cap: judge.max_claims 1 (pass --max-requests to send more)" in result.stdout
    assert [len(b.requests) for b in fake.creates] == [2, 1]
    result = batch(jbase, out, "--max-requests", "10", "--max-cost", "0")
    assert result.exit_code == 0 and len(fake.creates) == 2
    assert "sending 0 (~$0.00); 3 claims left out" in result.stdout  # 3: the rest are cached


def test_an_interrupted_audit_resumes_its_batch_instead_of_paying_twice(jbase, fake,
                                                                         tmp_path):
    """The first run is killed while it polls; the second collects the same batch."""
    fake.batch_polls = 10**9  # in progress until the test says otherwise
    out = tmp_path / "out"
    state = out / audit_module.STATE_NAME
    command = [sys.executable, "-m", "reviewer", "audit", "--kb", str(jbase), "--output-dir",
               str(out), "--batch", "--max-requests", "10", "--poll-interval", "0.02"]
    first = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (state.exists() and json.loads(
                state.read_text(encoding="utf-8"))["batches"][0]["id"]):
            time.sleep(0.02)
        while time.monotonic() < deadline and len(fake.batch_calls) < 3:
            time.sleep(0.02)  # it is polling
    finally:
        first.kill()
        first.communicate()
    recorded = json.loads(state.read_text(encoding="utf-8"))
    assert recorded["batches"][0]["id"] == "msgbatch_fake0001"
    assert sorted(r["path"] for r in recorded["batches"][0]["requests"].values()) == \
        claim_paths(jbase)
    assert not (out / "claim-review-audit.json").exists()
    fake.batches["msgbatch_fake0001"].polls_left = 1
    result = batch(jbase, out, "--max-requests", "10")
    assert result.exit_code == 0, result.output + result.stderr
    assert len(fake.creates) == 1  # one batch, paid once
    assert f"resuming the batch recorded in {state}" in result.stdout
    judge = report(out)["judge"]
    assert (judge["resumed"], judge["judged"], judge["errors"]) == (True, 6, [])
    assert not state.exists()


def test_ctrl_c_while_polling_keeps_the_batch_for_the_next_run(jbase, fake, tmp_path,
                                                                monkeypatch):
    fake.batch_polls = 1
    out = tmp_path / "out"

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(batch_module.time, "sleep", interrupt)
    result = batch(jbase, out, "--max-requests", "10")
    assert result.exit_code == 130
    assert "interrupted; a batch already sent is recorded in" in result.stderr
    assert (out / audit_module.STATE_NAME).exists()
    monkeypatch.undo()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
    monkeypatch.setenv("CLAIM_REVIEW_CACHE_DIR", str(tmp_path / "judge-cache"))
    monkeypatch.setenv("CLAIM_REVIEW_TODAY", "2026-06-01")
    result = batch(jbase, out, "--max-requests", "10")
    assert result.exit_code == 0, result.output + result.stderr
    assert len(fake.creates) == 1 and report(out)["judge"]["judged"] == 6


def test_a_claim_changed_since_the_batch_was_sent_is_left_out(jbase, fake, tmp_path,
                                                               monkeypatch):
    fake.batch_polls = 1
    out = tmp_path / "out"
    monkeypatch.setattr(batch_module.time, "sleep", lambda s: (_ for _ in ()).throw(
        KeyboardInterrupt))
    assert batch(jbase, out, "--max-requests", "10").exit_code == 130
    monkeypatch.setattr(batch_module.time, "sleep", lambda s: None)
    claim(jbase, CLEAN, description="A new description of the 2024 audits, changed after "
                                    "the batch went out")
    result = batch(jbase, out, "--max-requests", "10")
    assert result.exit_code == 0 and len(fake.creates) == 1
    judge = report(out)["judge"]
    assert judge["judged"] == 5
    assert judge["left_out"] == [{"path": f"{UT}{CLEAN}.md", "reason": (
        "the claim changed after the batch was sent; the next audit sends it")}]


def test_a_create_that_may_have_happened_is_never_sent_again(jbase, fake, tmp_path):
    out = tmp_path / "out"
    state = out / audit_module.STATE_NAME
    out.mkdir()
    state.write_text(json.dumps({"kind": "claim-review-audit-batch", "format": 1,
                                 "shard": None, "batches": [
                                     {"id": None, "created": "2026-06-01T10:00:00Z",
                                      "requests": {}}]}), encoding="utf-8")
    result = batch(jbase, out, "--max-requests", "10")
    assert result.exit_code == 2
    assert "a batch was being created when the audit stopped" in result.stderr
    assert fake.batch_calls == []
    state.write_text(json.dumps({"kind": "claim-review-audit-batch", "format": 1,
                                 "shard": "1/2", "batches": []}), encoding="utf-8")
    result = batch(jbase, out, "--max-requests", "10")
    assert result.exit_code == 2 and "shard 1/2, not the whole base" in result.stderr


def test_a_refused_create_records_nothing(jbase, fake, tmp_path):
    out = tmp_path / "out"
    fake.batch_script.append(error(400, "invalid_request_error", "too large"))
    result = batch(jbase, out, "--max-requests", "10")
    assert result.exit_code == 2
    assert "the batch was not created: HTTP 400 invalid_request_error: too large" in \
        result.stderr
    assert not (out / audit_module.STATE_NAME).exists() and fake.creates == []
    fake.batch_script.append(error(529, "overloaded_error"))  # transient: created next time
    assert batch(jbase, out, "--max-requests", "10").exit_code == 0
    assert len(fake.creates) == 1


def test_batch_options_need_batch_and_merge_takes_only_reports(base, tmp_path):
    for args in (["--dry-run"], ["--max-requests", "3"], ["--max-cost", "1"]):
        result = audit("--kb", str(base), *args)
        assert result.exit_code == 2 and "go with --batch" in result.stderr
    assert audit("--kb", str(base), "--judge", "--batch").exit_code == 2
    result = audit("--merge", "--kb", str(base))
    assert result.exit_code == 2 and "--merge needs the shard reports" in result.stderr
