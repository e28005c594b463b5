"""Time the deterministic pass on a generated knowledge base of N claims.

    python benchmarks/bench_check.py --claims 5000 [--changed 20] [--kb DIR]

Builds the base once in a temporary folder (or uses --kb), then times, in-process:
indexing and parsing, and the checks, for (a) a pull-request-sized change of
--changed claims reviewed against the whole base and (b) every claim of the base.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from reviewer.change import from_paths
from reviewer.engine import review
from reviewer.rubric import load_rubric

WORDS = ("bus lane tram ferry soil carbon crop yield outage deploy canary alert vaccine "
         "clinic heat lead water ridership frequency fare parking housing transit network "
         "signal corridor latency budget retry backoff rollback flag incident review").split()
VERBS = ("raises lowers cuts doubles halves predicts explains drives erodes shortens "
         "improves reduces").split()


def title(rng: random.Random, i: int) -> str:
    subject = " ".join(rng.sample(WORDS, 3))
    obj = " ".join(rng.sample(WORDS, 4))
    return f"{subject} {rng.choice(VERBS)} {obj} in case {i}"


def build(root: Path, n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    titles = [title(rng, i) for i in range(n)]
    domains = ["urban-transit", "soil-science", "software-reliability", "public-health"]
    for i, t in enumerate(titles):
        links = "\n".join(f"- [[{titles[rng.randrange(n)]}]]" for _ in range(4))
        broken = f"- [[{t} typo]]\n" if i % 50 == 0 else ""
        text = (f"---\ntype: claim\ndomain: {domains[i % 4]}\n"
                f"description: \"Measured in {2000 + i % 25}, {rng.choice(WORDS)} changed by "
                f"{i % 90 + 5} percent across {i % 40 + 3} sites\"\n"
                f"confidence: {('likely', 'experimental', 'proven', 'speculative')[i % 4]}\n"
                f"source: \"Author {i}, Study of {rng.choice(WORDS)}, {2000 + i % 25}\"\n"
                f"created: 2026-01-{i % 28 + 1:02d}\n---\n\n# {t}\n\n"
                f"A {2000 + i % 25} study of {i % 300 + 10} sites found it.\n\n"
                f"## Challenges\nNone known.\n\n---\n\nRelevant Notes:\n{links}\n{broken}")
        folder = root / "domains" / domains[i % 4]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{t}.md").write_text(text, encoding="utf-8")
    return titles


def timed(kb: Path, files: list[Path]) -> tuple[float, float, int, int]:
    rubric = load_rubric(None, kb)
    start = time.perf_counter()
    change = from_paths(kb, files, rubric)
    indexed = time.perf_counter()
    result = review(change.ctx)
    done = time.perf_counter()
    return indexed - start, done - indexed, len(change.ctx.change), len(result.findings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=5000)
    parser.add_argument("--changed", type=int, default=20)
    parser.add_argument("--kb", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        kb = args.kb or Path(tmp)
        if args.kb is None:
            build(kb, args.claims)
        notes = sorted(kb.rglob("*.md"))
        sample = random.Random(1).sample(notes, min(args.changed, len(notes)))
        for label, files in ((f"PR of {len(sample)} claims", sample), ("every claim", [])):
            index_s, check_s, reviewed, found = timed(kb, files)
            print(f"{label:>18}: index+parse {index_s:.3f}s, checks {check_s:.3f}s, "
                  f"total {index_s + check_s:.3f}s ({reviewed} reviewed, {found} findings, "
                  f"{len(notes)} notes)")


if __name__ == "__main__":
    main()
