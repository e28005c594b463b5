"""Which knowledge base a command works on, found the way linters find their project.

With no `--kb`, claim-review walks up from the current folder to the nearest folder that
holds `.claim-review.yaml`, else takes the git work tree's root, else the current folder.
"""

from __future__ import annotations

from pathlib import Path

from reviewer.rubric import KB_CONFIG
from reviewer.sources import SourceError, git


def find_root(start: Path) -> tuple[Path, str]:
    """(root, why) for a knowledge base containing `start`."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / KB_CONFIG).is_file():
            return folder, f"it holds {KB_CONFIG}"
    try:
        top = git(start, "rev-parse", "--show-toplevel").decode().strip()
    except SourceError:
        return start, "the current folder"
    return Path(top), "it is the git work tree's root"
