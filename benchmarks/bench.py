"""Benchmark claim-review against the floor on synthetic knowledge bases of 1k-100k claims.

    python -m benchmarks.bench [--sizes 1000,10000,100000] [--seed 7] [--keep DIR]
                               [--timeout 300] [--whole-max 10000] [--output FILE]

For each size it generates a base (benchmarks/generate.py; reused from --keep DIR when
already there), then runs, each as its own process, and measures wall time, CPU
(user + system of the process and the processes it waited for, such as git) and peak
memory (the largest resident set among them):

- the floor (benchmarks/floor.py): read every note once, parse its frontmatter with
  PyYAML's C loader, and one rapidfuzz cdist of the changed titles against all titles:
  the least any reviewer that reads the base must do;
- claim-review for each scenario, cold then warm (the same command again). When the CLI
  accepts `--cache-dir` (as `check --help` / `diff --help` say), cold gets a fresh,
  empty cache folder and warm the same folder again.

Scenarios: check-1 and check-50 (`check --kb BASE --no-llm FILES`, claims of the base),
diff-50 and diff-25 (`diff --base main --head change-N`: a branch that adds or edits N
claims), check-all (the whole base: `check --kb BASE --no-llm`). The whole-base check
grows with the square of the base; above --whole-max it is not run (the table says so)
and the largest base at or below it stands for it. A run that exceeds --timeout is
killed and reported as such.

The result is one Markdown table: per size and scenario, the floor and the cold and warm
runs with their ratio to the floor, the figure of merit.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as `python benchmarks/bench.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate import GENERATOR_VERSION, TODAY, generate  # noqa: E402

FLOOR = Path(__file__).resolve().with_name("floor.py")
SCENARIOS = ("check-1", "check-50", "diff-50", "diff-25", "check-all")
DEFAULT_SCENARIOS = "check-1,check-50,diff-50,check-all"
CLAIM_REVIEW = [sys.executable, "-m", "reviewer"]


@dataclass
class Run:
    wall: float = 0.0
    cpu: float = 0.0
    rss_mb: float = 0.0
    code: int | None = None
    timed_out: bool = False
    out: bytes = b""
    err: bytes = b""


@dataclass
class Row:
    claims: int
    notes: int
    scenario: str
    run: str  # floor | cold | warm
    result: Run | None  # None: not run
    floor: Run | None
    note: str


def measure(cmd: list[str], timeout: float, env: dict[str, str]) -> Run:
    """Run `cmd` as a child process and take its resource usage from wait4."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True)
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the child and any git it started

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB else
        return Run(wall=wall, cpu=usage.ru_utime + usage.ru_stime,
                   rss_mb=usage.ru_maxrss * scale / 2**20, code=proc.returncode,
                   timed_out=timed_out.is_set(), out=out.read(), err=err.read())


def supports_cache_dir(command: str, env: dict[str, str]) -> bool:
    done = subprocess.run([*CLAIM_REVIEW, command, "--help"], capture_output=True, env=env,
                          check=False)
    return b"--cache-dir" in done.stdout


def version(env: dict[str, str]) -> str:
    done = subprocess.run([*CLAIM_REVIEW, "--version"], capture_output=True, text=True,
                          env=env, check=False)
    return done.stdout.strip() or "claim-review (version unknown)"


def parse_sizes(text: str) -> list[int]:
    sizes = []
    for part in text.split(","):
        part = part.strip().lower()
        scale = 1000 if part.endswith("k") else 1
        sizes.append(int(float(part.rstrip("k")) * scale))
    return sizes


def prepare(size: int, seed: int, keep: Path | None, scratch: Path) -> tuple[Path, dict, str]:
    """The base of `size` claims: reused from --keep when complete, else generated."""
    root = (keep or scratch) / f"kb-{size}-s{seed}"
    manifest_path = root.parent / f"{root.name}.manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("generator") == GENERATOR_VERSION and manifest.get("claims") == size \
                and manifest.get("refs"):
            return root, manifest, "reused"
    for stale in (root, root.parent / f"{root.name}.change"):  # a partial or older base
        if stale.exists():
            shutil.rmtree(stale)
    manifest_path.unlink(missing_ok=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    manifest = generate(root, size, seed)
    return root, manifest, f"generated in {time.perf_counter() - start:.1f} s"


def commands(scenario: str, root: Path, manifest: dict) -> tuple[list[str], list[str]]:
    """(claim-review's command, the floor's command) for one scenario."""
    kind, _, count = scenario.partition("-")
    if kind == "check" and count == "all":
        return [*CLAIM_REVIEW, "check", "--kb", str(root)], \
            [sys.executable, str(FLOOR), str(root), "--all"]
    if kind == "check":
        files = manifest["sample"][count]
        return [*CLAIM_REVIEW, "check", "--kb", str(root), *(str(root / f) for f in files)], \
            [sys.executable, str(FLOOR), str(root), *files]
    changed = root.parent / manifest["change"]["dir"]
    files = manifest["change"]["files"][: int(count)]
    return [*CLAIM_REVIEW, "diff", "--repo", str(root), "--base", "main", "--head",
            f"change-{count}"], \
        [sys.executable, str(FLOOR), str(root), *(str(changed / f) for f in files)]


def describe(run: Run, timeout: float) -> str:
    """What a claim-review run found, from its JSON report."""
    if run.timed_out:
        return f"timed out after {timeout:g} s (killed)"
    if run.code not in (0, 1):
        last = run.err.decode("utf-8", "replace").strip().splitlines()
        return f"exit {run.code}: {last[-1] if last else 'no message'}"
    try:
        report = json.loads(run.out)
    except ValueError:
        return f"exit {run.code}, output is not JSON"
    rules = [f["rule"] for r in report["files"] for f in r["findings"]]
    dups = sum(r.startswith("duplication.") for r in rules)
    broken = sum(r == "wiki_links.broken-link" for r in rules)
    return (f"{report['summary'].get('reviewed', 0):,} reviewed, {len(rules):,} "
            f"finding{'' if len(rules) == 1 else 's'} "
            f"({dups} duplication, {broken} broken links), {report['verdict']}")


def describe_floor(run: Run, timeout: float) -> str:
    if run.timed_out:
        return f"timed out after {timeout:g} s (killed)"
    try:
        out = json.loads(run.out)
    except ValueError:
        last = run.err.decode("utf-8", "replace").strip().splitlines()
        return f"exit {run.code}: {last[-1] if last else 'no output'}"
    return f"{out['changed']:,} × {out['claims']:,} titles, {out['notes']:,} notes read"


def bench_size(size: int, root: Path, manifest: dict, scenarios: list[str], args,
               env: dict[str, str], cache: dict[str, bool], log) -> list[Row]:
    rows = []
    notes = manifest["notes"]
    for scenario in scenarios:
        if scenario == "check-all" and size > args.whole_max:
            rows.append(Row(size, notes, scenario, "-", None, None,
                            f"not run: whole base above --whole-max {args.whole_max:,}"))
            continue
        review_cmd, floor_cmd = commands(scenario, root, manifest)
        review_cmd += ["--no-llm", "--format", "json"]
        floor_env = {**env, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}  # one thread
        floor = measure(floor_cmd, args.timeout, floor_env)
        tries = [floor]  # the floor is the least: while it is cheap, take the best of three
        while len(tries) < 3 and sum(t.wall for t in tries) < 3 and not floor.timed_out:
            tries.append(measure(floor_cmd, args.timeout, floor_env))
        floor = min(tries, key=lambda t: t.wall)
        log(f"{size:>7} {scenario:<9} floor {floor.wall:7.2f} s")
        rows.append(Row(size, notes, scenario, "floor", floor, floor,
                        describe_floor(floor, args.timeout)))
        cache_dir = None
        if cache[scenario.partition("-")[0]]:
            cache_dir = tempfile.mkdtemp(prefix="claim-review-cache-")
            review_cmd += ["--cache-dir", cache_dir]
        try:
            for label in ("cold", "warm"):
                if label == "warm" and rows[-1].result.timed_out:
                    rows.append(Row(size, notes, scenario, label, None, floor,
                                    "not run: the cold run timed out"))
                    break
                run = measure(review_cmd, args.timeout, env)
                log(f"{size:>7} {scenario:<9} {label:<5} {run.wall:7.2f} s")
                rows.append(Row(size, notes, scenario, label, run, floor,
                                describe(run, args.timeout)))
                if args.profile and label == "warm":
                    profile(review_cmd, Path(args.profile), f"{size}-{scenario}", env)
        finally:
            if cache_dir:
                shutil.rmtree(cache_dir, ignore_errors=True)
    return rows


def profile(cmd: list[str], folder: Path, name: str, env: dict[str, str]) -> None:
    """The same command once more under cProfile (not timed): NAME.prof and the top
    functions by own time in NAME.txt."""
    folder.mkdir(parents=True, exist_ok=True)
    prof = folder / f"{name}.prof"
    subprocess.run([sys.executable, "-m", "cProfile", "-o", str(prof), *cmd[1:]],
                   env=env, capture_output=True, check=False)
    if prof.exists():
        import io
        import pstats

        text = io.StringIO()
        pstats.Stats(str(prof), stream=text).sort_stats("tottime").print_stats(25)
        (folder / f"{name}.txt").write_text(text.getvalue(), encoding="utf-8")


def fmt_time(seconds: float) -> str:
    return f"{seconds:.2f}" if seconds < 100 else f"{seconds:.0f}"


def ratio(value: float, floor: float) -> str:
    if floor <= 0:
        return "-"
    r = value / floor
    return f"{r:.1f}×" if r >= 1 else f"{r:.2g}×"  # an index may beat the floor


def table(rows: list[Row]) -> str:
    out = ["| claims | notes | scenario | run | wall s | CPU s | peak RSS MB | "
           "× floor wall | × floor CPU | result |",
           "|---:|---:|---|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        if r.result is None:
            cells = ["-"] * 5
        elif r.result.timed_out:
            cells = [f"> {fmt_time(r.result.wall)}", "-", "-", "-", "-"]
        else:
            x = r.result
            cells = [fmt_time(x.wall), fmt_time(x.cpu), f"{x.rss_mb:.0f}",
                     ratio(x.wall, r.floor.wall) if r.floor else "-",
                     ratio(x.cpu, r.floor.cpu) if r.floor else "-"]
        out.append(f"| {r.claims:,} | {r.notes:,} | {r.scenario} | {r.run} | "
                   + " | ".join(cells) + f" | {r.note} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:]))
    parser.add_argument("--sizes", default="1000,10000,100000",
                        help="base sizes in claims, comma-separated, 1k and 100k allowed "
                             "(default 1000,10000,100000: about 8 minutes on 2 cores)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="generate the bases here and reuse them on later runs")
    parser.add_argument("--timeout", type=float, default=300,
                        help="seconds before one run is killed (default 300)")
    parser.add_argument("--whole-max", type=int, default=10000,
                        help="largest base the whole-base check runs on (default 10000)")
    parser.add_argument("--scenarios", default=DEFAULT_SCENARIOS,
                        help=f"comma-separated, of {', '.join(SCENARIOS)} "
                             f"(default {DEFAULT_SCENARIOS})")
    parser.add_argument("--output", type=Path, metavar="FILE",
                        help="also write the table (Markdown) to FILE")
    parser.add_argument("--profile", metavar="DIR",
                        help="also run each claim-review command once more under cProfile, "
                             "untimed, writing DIR/<size>-<scenario>.prof and .txt")
    args = parser.parse_args(argv)
    sizes = parse_sizes(args.sizes)
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r}; choose from {', '.join(SCENARIOS)}")

    try:
        import numpy  # noqa: F401 - rapidfuzz's cdist, in the floor, needs it
    except ImportError:
        parser.error("the floor needs numpy: pip install -e '.[bench]'")
    env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
    env["CLAIM_REVIEW_TODAY"] = TODAY
    cache = {c: supports_cache_dir(c, env) for c in ("check", "diff")}

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    rows: list[Row] = []
    made: list[str] = []
    with tempfile.TemporaryDirectory(prefix="claim-review-bench-") as scratch:
        for size in sizes:
            root, manifest, how = prepare(size, args.seed, args.keep, Path(scratch))
            made.append(f"{size:,} claims ({manifest['notes']:,} notes): {how}")
            log(f"{size:>7} base {how}: {root}")
            rows += bench_size(size, root, manifest, scenarios, args, env, cache, log)
            if args.keep is None:
                shutil.rmtree(root, ignore_errors=True)

    cached = [c for c, ok in cache.items() if ok]
    header = [
        f"claim-review benchmark: {version(env)}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, seed {args.seed}",
        "",
        "Bases: " + "; ".join(made) + ".",
        "Cold and warm: " + (f"`--cache-dir` ({', '.join(cached)}): a fresh folder, then the "
                             "same folder again." if cached else
                             "no `--cache-dir` in this claim-review: warm is the same "
                             "command run again (the OS file cache is warm for both)."),
        f"Timeout per run: {args.timeout:.0f} s. Total time: "
        f"{time.perf_counter() - started:.0f} s (generation included).",
        "",
    ]
    legend = ("\nfloor: read every note, parse its frontmatter (yaml.CSafeLoader), one "
              "rapidfuzz cdist of the changed titles against all claim titles (best of up "
              "to three runs while they take under 3 s in all). "
              "× floor: claim-review's wall (CPU) time over the floor's, same base and "
              "changed files. CPU and peak RSS include the processes a run waited for (git).")
    text = "\n".join(header) + table(rows) + "\n" + legend + "\n"
    print(text)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
