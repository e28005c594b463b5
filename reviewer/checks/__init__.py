"""The six rubric checks, in the order the review presents them."""

from reviewer.checks import (
    confidence,
    duplication,
    schema,
    source_quality,
    specificity,
    wiki_links,
)

CHECKS = [schema, duplication, confidence, wiki_links, source_quality, specificity]
BY_ID = {module.ID: module for module in CHECKS}
ALL_RULES = {rule: module for module in CHECKS for rule in module.RULES}
