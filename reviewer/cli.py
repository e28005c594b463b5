"""The command line: check, diff, explain, rubric. Exit 0 APPROVE, 1 REQUEST_CHANGES, 2 usage."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reviewer import __version__

EXIT_APPROVE, EXIT_CHANGES, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
FORMATS = click.Choice(["text", "markdown", "json"])


class UsageFailure(click.ClickException):
    exit_code = EXIT_USAGE

    def show(self, file=None) -> None:
        click.echo(f"claim-review: error: {self.message}", err=True)


def _fail_on_config(fn):
    """Configuration and source errors exit 2 with one clear line, never a traceback."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from reviewer.rubric import RubricError
        from reviewer.sources import SourceError

        try:
            return fn(*args, **kwargs)
        except (RubricError, SourceError) as exc:
            raise UsageFailure(str(exc)) from exc

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="claim-review")
def main() -> None:
    """Review claims in a Markdown knowledge base: schema, duplicates, confidence,
    wiki links, source quality and specificity."""


def review_options(fn):
    fn = click.option("--no-llm", is_flag=True, help="Run the deterministic checks only.")(fn)
    fn = click.option("--format", "fmt", type=FORMATS, default="text", show_default=True,
                      help="Output: terminal text, the PR review markdown, or JSON.")(fn)
    fn = click.option("--rubric", type=click.Path(dir_okay=False, path_type=Path),
                      help="Rubric file (default: .claim-review.yaml at the KB root, "
                           "else the built-in default).")(fn)
    return fn


@main.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--kb", "kb_dir", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="Root of the knowledge base to check against.")
@review_options
@_fail_on_config
def check(files: tuple[Path, ...], kb_dir: Path, rubric: Path | None, fmt: str,
          no_llm: bool) -> None:
    """Review FILES (or folders of them) against the knowledge base at --kb.

    With no FILES, every claim of the knowledge base is reviewed."""
    from reviewer.change import from_paths
    from reviewer.rubric import load_rubric

    loaded = load_rubric(rubric, kb_dir)
    change = from_paths(kb_dir, list(files), loaded)
    _finish(change, fmt, no_llm)


@main.command()
@click.option("--repo", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="The git repository of the knowledge base.")
@click.option("--base", default="main", show_default=True, help="Base ref of the change.")
@click.option("--head", default="HEAD", show_default=True, help="Head ref of the change.")
@review_options
@_fail_on_config
def diff(repo: Path, base: str, head: str, rubric: Path | None, fmt: str, no_llm: bool) -> None:
    """Review the claims changed between the merge-base of BASE and HEAD.

    Contents are read from git objects at HEAD, not from the working tree."""
    from reviewer.change import from_git
    from reviewer.rubric import load_rubric

    loaded = load_rubric(rubric, repo)
    change = from_git(repo, base, head, loaded)
    _finish(change, fmt, no_llm)


def build_review(change, no_llm: bool):
    """The one pipeline every command uses: deterministic checks, then the judge."""
    from reviewer.engine import review

    result = review(change.ctx)
    result.stats.update(change.stats())
    return result


def exit_code(result) -> int:
    from reviewer.engine import REQUEST_CHANGES

    if result.incomplete is not None:
        return EXIT_INCOMPLETE
    return EXIT_CHANGES if result.verdict == REQUEST_CHANGES else EXIT_APPROVE


def _finish(change, fmt: str, no_llm: bool) -> None:
    from reviewer.render import render

    result = build_review(change, no_llm)
    color = fmt == "text" and sys.stdout.isatty()
    click.echo(render(result, fmt, color=color), nl=False)
    sys.exit(exit_code(result))


@main.command()
@click.argument("name")
@click.option("--rubric", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kb", "kb_dir", type=click.Path(file_okay=False, path_type=Path), default=".")
@_fail_on_config
def explain(name: str, rubric: Path | None, kb_dir: Path) -> None:
    """Print the documentation of a check or rule, with its effective options."""
    import yaml

    from reviewer.checks import ALL_RULES, BY_ID
    from reviewer.rubric import load_rubric

    module = BY_ID.get(name) or ALL_RULES.get(name) or ALL_RULES.get(f"{name}")
    if module is None:
        known = ", ".join(sorted([*BY_ID, *ALL_RULES]))
        raise UsageFailure(f"unknown check or rule '{name}' (known: {known})")
    loaded = load_rubric(rubric, kb_dir)
    click.echo(f"{module.ID} — {module.TITLE}\n")
    click.echo((module.__doc__ or "").strip() + "\n")
    click.echo("Rules (effective severity):")
    for rule, default in module.RULES.items():
        mark = "*" if rule == name else " "
        click.echo(f" {mark} {rule}: {loaded.severity(module.ID, rule, default)}")
    click.echo("\nEffective options:")
    options = loaded.check_options(module.ID, module.DEFAULTS)
    click.echo(yaml.safe_dump(options, sort_keys=True, allow_unicode=True).rstrip())


@main.command(name="rubric")
@click.option("--rubric", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kb", "kb_dir", type=click.Path(file_okay=False, path_type=Path), default=".")
@_fail_on_config
def rubric_cmd(rubric: Path | None, kb_dir: Path) -> None:
    """Validate and print the effective rubric (after extends and overrides)."""
    import yaml

    from reviewer.rubric import load_rubric

    loaded = load_rubric(rubric, kb_dir)
    click.echo("# loaded from: " + " <- ".join(reversed(loaded.origin)))
    click.echo(yaml.safe_dump(loaded.data, sort_keys=False, allow_unicode=True).rstrip())
