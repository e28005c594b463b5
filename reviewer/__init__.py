"""claim-review: a reviewer for pull requests to a Markdown knowledge base of claims."""

__version__ = "0.1.0"
