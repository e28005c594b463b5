"""The floor: the least work any reviewer that reads the knowledge base must do.

    python benchmarks/floor.py ROOT [--all | CHANGED ...]

Reads every note under ROOT once (hidden folders aside), parses its frontmatter with
PyYAML's C loader, takes the H1 title of every claim, and compares the titles of the
changed notes with all claim titles in one `rapidfuzz.process.cdist` (the scorer
claim-review's duplicate search uses, `fuzz.ratio`, with its candidate floor of 60).
CHANGED are paths relative to ROOT (notes already read) or paths elsewhere (read here);
`--all` compares every claim with every claim. The score matrix is computed in row
blocks of at most 32M cells (uint8), so the whole-base floor fits in memory.

Run as its own process by benchmarks/bench.py, so interpreter start-up counts in the
floor as it does in claim-review. Deliberately standalone: PyYAML, RapidFuzz and NumPy
only. Prints one JSON line: notes, claims, changed titles, and pairs scored >= 95.
"""

from __future__ import annotations

import json
import os
import sys

import yaml
from rapidfuzz import fuzz, process

CELLS = 32_000_000


def read_note(path: str) -> tuple[dict, str]:
    with open(path, "rb") as fh:
        text = fh.read().decode("utf-8", "replace")
    meta: dict = {}
    body = text
    if text.startswith("---\n"):
        end = text.find("\n---", 3)
        if end > 0:
            try:
                loaded = yaml.load(text[4:end], Loader=yaml.CSafeLoader)
            except (yaml.YAMLError, ValueError):  # ValueError: an impossible date
                loaded = None
            meta = loaded if isinstance(loaded, dict) else {}
            body = text[end + 4:]
    at = body.find("\n# ")
    title = body[at + 3:body.find("\n", at + 3)].strip() if at >= 0 else ""
    return meta, title


def main(argv: list[str]) -> None:
    root, rest = argv[0], argv[1:]
    every = rest == ["--all"]
    titles: dict[str, str] = {}  # relative path -> title, claims only
    notes = 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if not name.endswith(".md"):
                continue
            path = os.path.join(folder, name)
            meta, title = read_note(path)
            notes += 1
            if meta.get("type") == "claim":
                titles[os.path.relpath(path, root)] = title.lower()
    if every:
        changed = list(titles.values())
    else:
        changed = [titles[c] if c in titles else read_note(c)[1].lower() for c in rest]
    pool = list(titles.values())
    hits = 0
    rows = max(1, CELLS // max(1, len(pool)))
    for start in range(0, len(changed), rows):
        scores = process.cdist(changed[start:start + rows], pool, scorer=fuzz.ratio,
                               score_cutoff=60, dtype="uint8")
        hits += int((scores >= 95).sum())
    print(json.dumps({"notes": notes, "claims": len(pool), "changed": len(changed),
                      "pairs_95": hits}))


if __name__ == "__main__":
    main(sys.argv[1:])
