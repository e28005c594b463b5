"""action.yml and the workflows, read as data: inputs exist, actions are pinned, nothing from
an event is interpolated into a script, checkouts keep no credentials, permissions are set,
the Action installs only what its hash-pinned lock file names, and the README's copies of the
example workflows are the files."""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from reviewer.cli import pr as pr_command

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pip's own copy of the same parser
    from pip._vendor import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
WORKFLOWS = sorted([*(ROOT / ".github" / "workflows").glob("*.yml"),
                    *(ROOT / "examples" / "workflows").glob("*.yml")])
KB_EXAMPLES = sorted((ROOT / "examples" / "workflows").glob("*.yml"))
LOCK = ROOT / "requirements" / "action.lock"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PINNED = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}")
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


def steps_of(data: dict) -> list[dict]:
    if "runs" in data:
        return data["runs"]["steps"]
    return [s for job in data["jobs"].values() for s in job.get("steps", [])]


def all_steps() -> list[tuple[str, dict]]:
    return [(p.name, s) for p in [ACTION, *WORKFLOWS] for s in steps_of(load(p))]


def test_there_are_workflows_to_check():
    names = {p.name for p in WORKFLOWS}
    assert {"ci.yml", "claim-review-collect.yml", "claim-review.yml",
            "claim-review-pull-request.yml", "claim-review-pull-request-target.yml"} <= names


def test_every_input_the_action_uses_is_declared():
    action = load(ACTION)
    declared = set(action["inputs"])
    used = set(re.findall(r"inputs\.([\w-]+)", ACTION.read_text(encoding="utf-8")))
    assert used and used <= declared
    assert declared - used == set()  # and every declared input is used
    assert {"anthropic-api-key", "github-token", "rubric", "model", "reviewer-key", "post-as",
            "fail-on"} <= declared
    ids = {s.get("id") for s in steps_of(action)}
    for output in action["outputs"].values():
        step = re.search(r"steps\.([\w-]+)\.outputs", output["value"]).group(1)
        assert step in ids


def test_the_workflows_pass_only_inputs_the_action_has():
    declared = set(load(ACTION)["inputs"])
    for path in KB_EXAMPLES:
        for step in steps_of(load(path)):
            if "/claim-review@" in step.get("uses", ""):
                assert set(step.get("with", {})) <= declared, path.name


def test_no_expression_is_interpolated_into_a_script():
    for name, step in all_steps():
        if "run" in step:
            assert "${{" not in step["run"], (name, step.get("name"))


def test_event_text_never_reaches_a_script_except_through_env():
    for path in [ACTION, *WORKFLOWS]:
        for name, step in [(path.name, s) for s in steps_of(load(path))]:
            for expr in EXPRESSION.findall(step.get("run", "")):
                assert "github.event" not in expr, name


def test_every_action_is_pinned_to_a_commit_sha():
    uses = [(name, step["uses"]) for name, step in all_steps() if "uses" in step]
    assert uses
    for name, ref in uses:
        assert PINNED.fullmatch(ref), f"{name}: {ref} is not pinned to a 40-hex SHA"


def test_checkouts_keep_no_credentials():
    checkouts = [(n, s) for n, s in all_steps()
                 if s.get("uses", "").startswith("actions/checkout@")]
    assert checkouts
    for name, step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False, name


def test_permissions_are_declared_and_least_privilege():
    for path in WORKFLOWS:
        data = load(path)
        assert "permissions" in data, path.name
        # a write scope belongs to the one job that needs it, never to the whole workflow
        assert "write" not in (data["permissions"] or {}).values(), path.name
        for job_name, job in data["jobs"].items():
            granted = {**(data["permissions"] or {}), **(job.get("permissions") or {})}
            writes = {k for k, v in granted.items() if v == "write"}
            assert writes <= {"pull-requests"}, (path.name, job_name, writes)
    collect = load(ROOT / "examples" / "workflows" / "claim-review-collect.yml")
    assert collect["permissions"] == {"contents": "read"}
    text = (ROOT / "examples" / "workflows" / "claim-review-collect.yml").read_text("utf-8")
    assert "${{ secrets." not in text


def review_examples() -> list[Path]:
    """The example workflows that review pull requests (the audit runs on a schedule)."""
    events = {"pull_request", "pull_request_target", "workflow_run"}
    return [p for p in KB_EXAMPLES if events & set(load(p)["on"])]


def test_review_workflows_have_a_concurrency_group_per_pull_request():
    assert {p.name for p in review_examples()} == {
        "claim-review-collect.yml", "claim-review.yml", "claim-review-pull-request.yml",
        "claim-review-pull-request-target.yml"}
    for path in review_examples():
        data = load(path)
        groups = [data.get("concurrency", {}).get("group", "")]
        groups += [j.get("concurrency", {}).get("group", "") for j in data["jobs"].values()]
        assert any("pull_request.number" in g or "identify.outputs.number" in g
                   for g in groups), path.name


def test_the_two_step_workflows_fit_together():
    collect = load(ROOT / "examples" / "workflows" / "claim-review-collect.yml")
    review = load(ROOT / "examples" / "workflows" / "claim-review.yml")
    assert review["on"]["workflow_run"]["workflows"] == [collect["name"]]
    assert set(collect["on"]) == {"pull_request"}
    uploaded = [s["with"]["name"] for s in steps_of(collect) if "upload-artifact" in
                s.get("uses", "")]
    downloaded = {s["with"]["name"] for s in steps_of(review) if "download-artifact" in
                  s.get("uses", "")}
    assert uploaded and downloaded == set(uploaded)
    for step in steps_of(review):
        if "download-artifact" in step.get("uses", ""):
            assert step["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    assert review["jobs"]["identify"]["if"].count("workflow_run.conclusion == 'success'") == 1


def test_the_audit_workflow_shards_on_a_schedule_and_merges():
    from reviewer.cli import audit as audit_command

    path = ROOT / "examples" / "workflows" / "claim-review-audit.yml"
    data = load(path)
    assert set(data["on"]) == {"schedule", "workflow_dispatch"} and data["on"]["schedule"]
    assert data["permissions"] == {} and data["concurrency"]["cancel-in-progress"] is False
    audit, merge = data["jobs"]["audit"], data["jobs"]["merge"]
    shards = audit["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, len(shards) + 1)) and audit["strategy"]["fail-fast"] is False
    assert merge["needs"] == "audit" and "cancelled()" in merge["if"]
    for job in (audit, merge):
        assert job["permissions"] == {"contents": "read"}
    run = next(s for s in audit["steps"] if "--shard" in s.get("run", ""))
    assert '--shard "$SHARD/$SHARDS"' in run["run"]
    assert run["env"]["SHARD"] == "${{ matrix.shard }}"
    assert run["env"]["SHARDS"] == "${{ strategy.job-total }}"
    # the key reaches only the audit step, and only when the judge is asked for
    text = path.read_text(encoding="utf-8")
    assert text.count("secrets.") == 1
    assert run["env"]["ANTHROPIC_API_KEY"].startswith("${{ inputs.judge && secrets.")
    uploads = [s["with"]["name"] for s in audit["steps"] if "upload-artifact" in s.get("uses", "")]
    download = next(s for s in merge["steps"] if "download-artifact" in s.get("uses", ""))
    assert uploads == ["claim-review-audit-shard-${{ matrix.shard }}"]
    assert download["with"]["pattern"] == "claim-review-audit-shard-*"
    merging = next(s for s in merge["steps"] if "--merge" in s.get("run", ""))
    assert '"$SHARDS_DIR"/*/claim-review-audit.json' in merging["run"]
    scripts = run["run"] + merging["run"]
    flags = set(re.findall(r"(--[a-z][a-z-]+)", scripts))
    known = {opt for p in audit_command.params for opt in p.opts}
    assert flags and flags <= known


def pip_commands(script: str) -> list[str]:
    """The script's `python -m pip install` commands, continuation lines joined."""
    lines = script.replace("\\\n", " ").splitlines()
    return [" ".join(line.split()) for line in lines if "-m pip install" in line]


def test_the_action_installs_from_its_own_path_and_uses_real_flags():
    steps = steps_of(load(ACTION))
    scripts = "\n".join(s.get("run", "") for s in steps)
    assert "-I -m pip" in scripts  # isolated: never imports from the working directory
    lock, own = pip_commands(scripts)
    assert own.endswith('--no-deps --no-build-isolation --no-index "$GITHUB_ACTION_PATH"')
    flags = set(re.findall(r"(--[a-z][a-z-]+)", steps[-1]["run"]))
    known = {opt for p in pr_command.params for opt in p.opts}
    assert flags and flags <= known


@pytest.mark.parametrize("inputs, expected", [
    ({}, ["pr", "--fail-on", "request-changes"]),
    ({"INPUT_RUBRIC": "rubrics/my kb.yaml", "INPUT_POST_AS": "comment",
      "INPUT_REVIEWER_KEY": "RIO", "INPUT_MODEL": "m", "INPUT_ARTIFACT": "/tmp/a b",
      "INPUT_FAIL_ON": "never"},
     ["pr", "--fail-on", "never", "--rubric", "rubrics/my kb.yaml", "--model", "m",
      "--reviewer-key", "RIO", "--post-as", "comment", "--artifact", "/tmp/a b"]),
])
def test_the_action_script_turns_inputs_into_arguments(tmp_path, inputs, expected):
    step = steps_of(load(ACTION))[-1]
    fake = tmp_path / "claim-review"
    fake.write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$@"\n')
    fake.chmod(0o755)
    env = {"PATH": "/usr/bin:/bin", "CLAIM_REVIEW": str(fake), "INPUT_RUBRIC": "",
           "INPUT_MODEL": "", "INPUT_REVIEWER_KEY": "", "INPUT_POST_AS": "",
           "INPUT_ARTIFACT": "", "INPUT_FAIL_ON": "request-changes", **inputs}
    done = subprocess.run(["bash", "-c", step["run"]], env=env, capture_output=True, text=True,
                          check=True)
    assert done.stdout.splitlines() == expected


def test_the_ci_workflow_runs_the_tests_on_push_and_pull_request():
    ci = load(ROOT / ".github" / "workflows" / "ci.yml")
    assert {"push", "pull_request"} <= set(ci["on"])
    runs = [s["run"] for s in steps_of(ci) if "run" in s]
    assert runs == ["bash .ci/run"] and (ROOT / ".ci" / "run").is_file()


def lock_entries() -> dict[str, tuple[str, list[str]]]:
    """requirements/action.lock as {name: (pin, [hash options])}."""
    entries = {}
    text = LOCK.read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if words:
            requirement, *options = words
            name = canonicalize_name(re.split(r"[=<>!~\[;@ ]", requirement, maxsplit=1)[0])
            entries[name] = (requirement, options)
    return entries


def test_the_lock_pins_every_dependency_by_version_and_hash():
    entries = lock_entries()
    build_requires = PYPROJECT["build-system"]["requires"]
    needed = [Requirement(r) for r in [*PYPROJECT["project"]["dependencies"], *build_requires]]
    assert len(needed) >= 6
    for req in needed:
        name = canonicalize_name(req.name)
        assert name in entries, f"{req.name} is not in {LOCK.name}"
        pin = entries[name][0]
        assert pin.startswith(f"{name}==") and pin.count("==") == 1, pin
        assert req.specifier.contains(pin.split("==")[1], prereleases=True), (str(req), pin)
    for name, (pin, options) in entries.items():  # transitive dependencies too
        assert re.fullmatch(r"[a-z0-9-]+==[\w.!+]+", pin), pin
        assert options and all(re.fullmatch(r"--hash=sha256:[0-9a-f]{64}", o)
                               for o in options), name


def test_the_action_installs_only_from_its_lock_file():
    steps = steps_of(load(ACTION))
    install = next(s for s in steps if "-m pip install" in s.get("run", ""))
    lock, own = pip_commands(install["run"])
    lock_path = '"$GITHUB_ACTION_PATH/requirements/action.lock"'
    assert "--require-hashes" in lock.split() and f"-r {lock_path}" in lock
    assert "--no-deps" in own.split() and "--no-index" in own.split()
    assert LOCK.is_file() and LOCK.read_text("utf-8").startswith("#")
    # the pip cache is keyed by the lock's digest, and pip uses that cache
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache@"))
    assert "steps.lock.outputs.sha256" in cache["with"]["key"]
    assert install["env"]["PIP_CACHE_DIR"] == cache["with"]["path"]


def test_the_cache_key_step_digests_the_lock_file(tmp_path):
    step = next(s for s in steps_of(load(ACTION)) if s.get("id") == "lock")
    lock = b"click==8.1.8 --hash=sha256:00\n"
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "action.lock").write_bytes(lock)
    output = tmp_path / "output"
    env = {"PATH": "/usr/bin:/bin", "GITHUB_ACTION_PATH": str(tmp_path),
           "GITHUB_OUTPUT": str(output)}
    subprocess.run(["bash", "-c", step["run"]], env=env, check=True)
    assert output.read_text() == f"sha256={hashlib.sha256(lock).hexdigest()}\n"


def test_ignored_zizmor_findings_say_why_on_the_same_line():
    ignores = [(path.name, line) for path in [ACTION, *WORKFLOWS]
               for line in path.read_text(encoding="utf-8").splitlines()
               if "zizmor: ignore" in line]
    assert ignores  # the two dangerous triggers of the examples
    for name, line in ignores:
        reason = re.search(r"# zizmor: ignore\[[a-z-]+(?:,\s*[a-z-]+)*\](.*)", line)
        assert reason and len(reason.group(1).split()) >= 4, (name, line)


def readme_yaml_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"^```yaml\n(.*?)^```$", text, re.DOTALL | re.MULTILINE)


def test_readme_reproduces_the_example_workflows_verbatim():
    examples = {p.read_text(encoding="utf-8").splitlines()[0]: p for p in KB_EXAMPLES}
    shown = set()
    for block in readme_yaml_blocks():
        path = examples.get(block.splitlines()[0])
        if path is not None:
            assert block == path.read_text(encoding="utf-8"), f"README's copy of {path.name}"
            shown.add(path.name)
    assert {"claim-review-collect.yml", "claim-review.yml"} <= shown
