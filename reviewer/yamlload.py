"""The one YAML loader base, and the cap on what aliases may expand to.

Frontmatter and rubrics are both untrusted text: a few lines of anchors and aliases can
expand to billions of nodes ("billion laughs"). Both loaders count the expanded nodes of
the composed document before constructing it and refuse past `MAX_NODES`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# the C loader is several times faster; PyYAML built without libyaml has only the Python one
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_NODES = 20_000  # expanded node count; aliases make a tiny text explode past this


class TooManyNodes(yaml.YAMLError):
    """The document expands to more than MAX_NODES nodes through aliases."""


def too_many_nodes(root: Any, limit: int = MAX_NODES) -> bool:
    """Count nodes as they would expand, stopping early; aliases reuse node objects."""
    budget = limit
    stack = [root]
    while stack:
        node = stack.pop()
        budget -= 1
        if budget < 0:
            return True
        value = node.value
        if isinstance(value, list):
            for item in value:
                if isinstance(item, tuple):
                    stack.extend(item)
                else:
                    stack.append(item)
    return False


def load_capped(text: str, loader_class: type) -> Any:
    """Compose, check the expansion, then construct: `yaml.load` with an alias cap."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "*" in text and too_many_nodes(node):
            raise TooManyNodes(f"the YAML expands to more than {MAX_NODES:,} nodes "
                               "(anchors and aliases)")
        return loader.construct_document(node)
    finally:
        loader.dispose()


def read_file(path: Path) -> Any:
    """A YAML file the user gave (a gold set, a rubric test case), with the alias cap;
    ValueError says, in a few words, why it cannot be read."""
    try:
        return load_capped(path.read_text(encoding="utf-8"), SafeLoader)
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read it ({exc})") from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"it is not valid YAML ({exc})") from exc
