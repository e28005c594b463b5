"""The command line: check, diff, explain, rubric. Exit 0 APPROVE, 1 REQUEST_CHANGES, 2 usage."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click

from reviewer import __version__
from reviewer.findings import SEVERITIES
from reviewer.pipeline import EXIT_APPROVE, EXIT_CHANGES, EXIT_USAGE
from reviewer.render import FORMATS as FORMAT_NAMES

FORMATS = click.Choice(list(FORMAT_NAMES))


class UsageFailure(click.ClickException):
    exit_code = EXIT_USAGE

    def show(self, file=None) -> None:
        click.echo(f"claim-review: error: {self.message}", err=True)


def _fail_on_config(fn):
    """Configuration and source errors exit 2 with one clear line, never a traceback. So
    does a bug, which never gets as far as a verdict; CLAIM_REVIEW_DEBUG=1 shows its
    traceback."""
    import functools
    import os

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from reviewer.rubric import RubricError
        from reviewer.sources import SourceError

        try:
            return fn(*args, **kwargs)
        except (RubricError, SourceError) as exc:
            raise UsageFailure(str(exc)) from exc
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit,
                BrokenPipeError):
            raise
        except Exception as exc:
            if os.environ.get("CLAIM_REVIEW_DEBUG"):
                raise
            raise UsageFailure(f"internal error, no verdict given ({type(exc).__name__}: "
                               f"{exc}); please report it, with CLAIM_REVIEW_DEBUG=1 output"
                               ) from exc

    return wrapper


EXIT_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a writer whose reader left


class _Main(click.Group):
    """The command group. A reader that leaves early (`| head -1`, `| grep -q`) ends the
    command quietly with exit 141, as a shell reports a writer killed by SIGPIPE: never a
    traceback, and never 0, which a pipeline could take for APPROVE."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            _stdout_gone()
            sys.exit(EXIT_PIPE)


def _stdout_gone() -> None:
    """Point standard output at /dev/null, so that the flush at exit fails no more."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real descriptor (a test runner's stream)
        pass


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="claim-review")
def main() -> None:
    """Review claims in a Markdown knowledge base: schema, duplicates, confidence,
    wiki links, source quality and specificity.

    Exit codes of check, diff and pr: 0 APPROVE, 1 REQUEST_CHANGES, 2 usage or
    configuration error, 3 no verdict (the review is incomplete)."""


def review_options(fn):
    fn = click.option("--cache-dir", metavar="DIR", default=None,
                      help="Folder of the persistent index of the knowledge base (default: "
                           "CLAIM_REVIEW_INDEX_DIR, else ~/.cache/claim-review; '' for none).")(fn)
    fn = click.option("--model", metavar="MODEL",
                      help="Anthropic model for the LLM judge (overrides CLAIM_REVIEW_MODEL "
                           "and the rubric's judge.model).")(fn)
    fn = click.option("--no-llm", is_flag=True, help="Run the deterministic checks only.")(fn)
    fn = click.option("--format", "fmt", type=FORMATS, default="text", show_default=True,
                      help="Output: terminal text, the PR review markdown, JSON, GitHub "
                           "Actions annotations, or SARIF 2.1.0.")(fn)
    fn = click.option("--rubric", type=click.Path(dir_okay=False, path_type=Path),
                      help="Rubric file (default: .claim-review.yaml at the KB root, "
                           "else the built-in default).")(fn)
    return fn


def output_options(fn):
    fn = click.option("--color", type=click.Choice(["auto", "always", "never"]),
                      default="auto", show_default=True,
                      help="Colour the text output: auto colours a terminal, unless NO_COLOR "
                           "is set (FORCE_COLOR forces it).")(fn)
    fn = click.option("--min-severity", type=click.Choice(list(reversed(SEVERITIES))),
                      default="info", show_default=True,
                      help="Show only findings at or above this severity; the counts and the "
                           "verdict still cover every finding.")(fn)
    fn = click.option("-q", "--quiet", is_flag=True,
                      help="Findings only: no rule table, notes or summary line (nothing when "
                           "there are none), no informational messages.")(fn)
    fn = click.option("--output-file", type=click.Path(dir_okay=False, path_type=Path),
                      help="Write the output to FILE (atomically) instead of standard output.")(fn)
    return fn


@dataclass(frozen=True)
class Output:
    """Where and how a review is shown: the --format, --output-file, --quiet,
    --min-severity, --color and --new-only options."""

    fmt: str = "text"
    file: Path | None = None
    quiet: bool = False
    min_severity: str = "info"
    color: str = "auto"
    new_only: bool = False
    locate: Callable[[str], str] | None = None  # review path -> repository path


def use_color(choice: str, stream, env=os.environ) -> bool:
    """--color always or never wins; auto colours a terminal, except that a non-empty
    NO_COLOR turns colour off (no-color.org) and a non-empty FORCE_COLOR turns it on. NO_COLOR
    wins over FORCE_COLOR, as in Python's own colouring, and TERM=dumb means no colour."""
    if choice != "auto":
        return choice == "always"
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    if env.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def display_options(fn):
    fn = click.option("--new-only", is_flag=True,
                      help="Text output: hide findings that were already there (existing).")(fn)
    fn = click.option("--no-baseline", is_flag=True, help="Ignore the baseline file.")(fn)
    fn = click.option("--baseline", "baseline_file",
                      type=click.Path(dir_okay=False, path_type=Path),
                      help="Baseline file (default: the rubric's baseline, "
                           ".claim-review-baseline.json).")(fn)
    return fn


@main.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, allow_dash=True,
                                                   path_type=Path))
@click.option("--kb", "kb_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Root of the knowledge base (default: the nearest folder up from here "
                   "with .claim-review.yaml, else the git work tree's root).")
@click.option("--claims-only", is_flag=True,
              help="Skip named files that are not claims of the base (by the rubric) "
                   "instead of reviewing them, as a pre-commit hook needs.")
@click.option("--stdin-filename", type=click.Path(dir_okay=False, path_type=Path),
              help="With FILE '-': the path the note read from standard input is reviewed "
                   "as (default: stdin.md at the knowledge base's root).")
@review_options
@display_options
@output_options
@_fail_on_config
def check(files: tuple[Path, ...], kb_dir: Path | None, claims_only: bool,
          stdin_filename: Path | None, rubric: Path | None, fmt: str, no_llm: bool,
          model: str | None, cache_dir: str | None, baseline_file: Path | None,
          no_baseline: bool, new_only: bool,
          output_file: Path | None, quiet: bool, min_severity: str, color: str) -> None:
    """Review FILES (or folders of them) against the knowledge base; '-' reads one note
    from standard input.

    With no FILES, every claim of the knowledge base is reviewed, or, run from a folder
    inside it, every claim of that folder. Findings in the baseline are existing and do
    not block."""
    from reviewer.change import from_paths, from_stdin

    stdin = [f for f in files if str(f) == "-"]
    if stdin and len(files) > 1:
        raise UsageFailure("'-' (standard input) must be the only FILE")
    if stdin_filename is not None and not stdin:
        raise UsageFailure("--stdin-filename needs '-' as the FILE")
    root, files = _root_and_files(kb_dir, files, quiet)
    loaded = _rubric(rubric, root, model)
    baseline = None if no_baseline else _baseline(baseline_file, root, loaded)
    if stdin:
        data = sys.stdin.buffer.read(loaded.max_file_bytes + 1)
        change = from_stdin(root, stdin_filename or Path(root) / "stdin.md", data, loaded,
                            baseline=baseline, index=_index(cache_dir, loaded))
    else:
        change = from_paths(root, list(files), loaded, baseline=baseline,
                            claims_only=claims_only, index=_index(cache_dir, loaded))
    _finish(change, no_llm, Output(fmt, output_file, quiet, min_severity, color, new_only,
                                   _repo_locator(root)))


def _index(cache_dir: str | None, loaded):
    from reviewer.index import open_index

    return open_index(cache_dir, loaded.max_file_bytes)


def _root_and_files(kb_dir: Path | None, files: tuple[Path, ...],
                    quiet: bool = False) -> tuple[Path, tuple]:
    """--kb, or the discovered root; run from a folder inside it with no FILES, that
    folder. Say which root was used when it is not the current folder."""
    from reviewer.roots import find_root

    if kb_dir is not None:
        return kb_dir, files
    here = Path.cwd()
    root, why = find_root(here)
    if root != here.resolve():
        if not quiet:
            _log(f"knowledge base: {root} ({why})")
        if not files:
            files = (here,)
    return root, files


def _repo_locator(root: Path) -> Callable[[str], str] | None:
    """Review paths as paths from the git work tree's root, which annotations and SARIF
    need when the base is a folder inside a repository. A note of the base is shown
    relative to the base; any other file relative to the current folder, or absolute."""
    from reviewer.sources import SourceError, git

    try:
        top = Path(git(root, "rev-parse", "--show-toplevel").decode().strip()).resolve()
    except SourceError:
        return None
    base, here = root.resolve(), Path.cwd()

    def locate(path: str) -> str:
        if os.path.lexists(base / path) or not os.path.lexists(here / path):
            full = base / path  # an absolute `path` stays itself
        else:
            full = here.resolve() / path
        try:
            return full.relative_to(top).as_posix()
        except ValueError:
            return path

    return locate


def _baseline(explicit: Path | None, root: Path, loaded):
    from reviewer.baseline import BaselineError, read
    from reviewer.sources import SourceError

    path = explicit or (root / loaded.baseline_path if loaded.baseline_path else None)
    if path is None:
        return None
    if explicit is not None and not explicit.is_file():
        raise SourceError(f"{explicit}: no such baseline file")
    try:
        return read(path)
    except BaselineError as exc:
        raise SourceError(str(exc)) from exc


@main.command()
@click.option("--repo", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="The git repository of the knowledge base.")
@click.option("--base", default=None,
              help="Base ref of the change (default: main, else origin/main, master, "
                   "origin/master, the first that exists).")
@click.option("--head", default="HEAD", show_default=True, help="Head ref of the change.")
@click.option("--worktree", is_flag=True,
              help="Review the working tree (uncommitted changes included) against the "
                   "base, instead of HEAD.")
@click.option("--rubric-from", type=click.Choice(["base", "head"]), default="base",
              show_default=True,
              help="Read the rubric from the base commit, as the Action does, or from the "
                   "branch (to try a rubric change).")
@review_options
@display_options
@output_options
@_fail_on_config
def diff(repo: Path, base: str, head: str, worktree: bool, rubric_from: str,
         rubric: Path | None, fmt: str, no_llm: bool, model: str | None, cache_dir: str | None,
         baseline_file: Path | None, no_baseline: bool, new_only: bool,
         output_file: Path | None, quiet: bool, min_severity: str, color: str) -> None:
    """Review the claims changed between the merge-base of BASE and HEAD.

    Contents are read from git objects at HEAD, not from the working tree (see
    --worktree). Findings the base versions already had are existing and do not block.
    The rubric and the baseline come from the base commit, as in a pull request."""
    from reviewer.change import USE_BASE, default_base, from_git, uncommitted_notes

    base = base or default_base(repo)
    loaded, note = _diff_rubric(repo, base, head, rubric, rubric_from, worktree, model)
    if not worktree:
        dirty = uncommitted_notes(repo, loaded, head)
        if dirty:
            _log(f"warning: {len(dirty)} note(s) have uncommitted changes ({dirty[0]}"
                 f"{', ...' if len(dirty) > 1 else ''}); diff reviews {head} as committed "
                 "(--worktree reviews the working tree)")
    baseline = None if no_baseline else (
        _baseline(baseline_file, repo, loaded) if baseline_file else USE_BASE)
    change = from_git(repo, base, head, loaded, worktree=worktree, baseline=baseline,
                      index=_index(cache_dir, loaded))
    _finish(change, no_llm, Output(fmt, output_file, quiet, min_severity, color, new_only),
            notes=[note] if note else [])


def _diff_rubric(repo: Path, base: str, head: str, explicit: Path | None, rubric_from: str,
                 worktree: bool, model: str | None):
    """The base commit's rubric (or the branch's), and a note when the branch changes it."""
    from reviewer.base_rubric import blob_id, git_reader, load_base_rubric
    from reviewer.change import merge_base, require_repo, toplevel
    from reviewer.pipeline import model_override
    from reviewer.rubric import KB_CONFIG, load_rubric

    require_repo(repo)
    top = toplevel(repo)
    path = _inside(explicit, top) if explicit is not None else KB_CONFIG
    if path is None:  # the operator's own file, outside the repository
        return load_rubric(explicit).with_overrides(model=model_override(model)), None
    start = merge_base(repo, base, head)
    changed = blob_id(repo, start, path) != (_worktree_blob(top, path) if worktree
                                             else blob_id(repo, head, path))
    if rubric_from == "head":
        loaded = load_rubric(top / path) if worktree else \
            load_base_rubric(git_reader(repo, head, head), head, path)
        note = f"Reviewed with the branch's {path} (--rubric-from head)." if changed else None
    else:
        where = f"base {start[:12]}"
        loaded = load_base_rubric(git_reader(repo, start, where), where, path)
        note = (f"This branch changes {path}; it was reviewed with the base commit's rubric, "
                "as a pull request is (--rubric-from head tries the new one).") \
            if changed else None
    return loaded.with_overrides(model=model_override(model)), note


def _inside(path: Path, top: Path) -> str | None:
    try:
        return path.resolve().relative_to(top.resolve()).as_posix()
    except ValueError:
        return None


def _worktree_blob(top: Path, path: str) -> str | None:
    from reviewer.sources import git

    file = top / path
    if not file.is_file():
        return None
    return git(top, "hash-object", "--", path).decode().strip()


@main.command()
@click.option("--kb", "kb_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Root of the knowledge base (default: found as for check).")
@click.option("--rubric", type=click.Path(dir_okay=False, path_type=Path),
              help="Rubric file (default: .claim-review.yaml at the KB root).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write it (default: the rubric's baseline path).")
@click.option("--prune", is_flag=True,
              help="Only drop entries that no longer match a finding; add none.")
@_fail_on_config
def baseline(kb_dir: Path | None, rubric: Path | None, output: Path | None,
             prune: bool) -> None:
    """Record the current findings of the whole base as accepted (the baseline).

    check, diff and pr then treat them as existing: only new findings block. The file has
    one entry a line, in a stable order, so it reads well in a pull request."""
    from reviewer.baseline import Baseline, write
    from reviewer.change import from_paths
    from reviewer.pipeline import build_review
    from reviewer.rubric import load_rubric
    from reviewer.sources import SourceError

    root, _files = _root_and_files(kb_dir, ())
    loaded = load_rubric(rubric, root)
    target = output or (root / (loaded.baseline_path or ".claim-review-baseline.json"))
    result = build_review(from_paths(root, [], loaded), no_llm=True)
    current = Baseline.of(result.files)
    if prune:
        old = _baseline(target, root, loaded) if target.is_file() else None
        if old is None:
            raise SourceError(f"{target}: no baseline to prune")
        current = old.pruned(current)
        dropped = sum(old.counts.values()) - sum(current.counts.values())
        _log(f"dropped {dropped} stale entries")
    write(target, current.dumps(loaded.digest()))
    _log(f"wrote {len(current.counts)} entries ({sum(current.counts.values())} findings) "
         f"to {target}")


def _rubric(explicit: Path | None, root: Path, model: str | None):
    from reviewer.pipeline import model_override
    from reviewer.rubric import load_rubric

    return load_rubric(explicit, root).with_overrides(model=model_override(model))


def _finish(change, no_llm: bool, out: Output, notes: list[str] | None = None) -> None:
    from reviewer.pipeline import build_review, exit_code
    from reviewer.render import Display, render

    progress = None if out.quiet else progress_line(sys.stderr)
    result = build_review(change, no_llm, judge_progress=progress)
    result.notes.extend(notes or [])
    color = out.fmt == "text" and use_color(out.color, sys.stdout if out.file is None
                                            else None)
    display = Display(color=color, new_only=out.new_only, min_severity=out.min_severity,
                      quiet=out.quiet, locate=out.locate)
    _emit(render(result, out.fmt, display=display), out.file, color)
    sys.exit(exit_code(result))


def _emit(text: str, file: Path | None, color: bool) -> None:
    """To standard output, or atomically to --output-file."""
    from reviewer.atomic import write_atomic

    if file is None:
        click.echo(text, nl=False, color=color)
        return
    try:
        write_atomic(file, text.encode("utf-8"))
    except OSError as exc:
        raise UsageFailure(f"{file}: cannot write the output ({exc.strerror or exc})") from exc


def progress_line(stream) -> Callable | None:
    """The judge's progress on one self-rewriting line of `stream`, when it is a terminal:
    claims answered, tokens and estimated cost so far. None elsewhere (a CI log)."""
    if not getattr(stream, "isatty", lambda: False)():
        return None

    def show(p) -> None:
        spent = f"~${p.cost_usd:.4f}" if p.cost_usd is not None else "cost unknown"
        stream.write(f"\rclaim-review: judged {p.done}/{p.total} claims, {p.tokens:,} tokens, "
                     f"{spent}\x1b[K" + ("\n" if p.done >= p.total else ""))
        stream.flush()

    return show


def complete_rule(_ctx, _param, incomplete: str) -> list:
    """Shell completion for `explain`: checks, then rules by long and short name (a
    rubric's custom rules are known only once a rubric is read: `explain custom` lists
    them)."""
    from click.shell_completion import CompletionItem

    from reviewer.checks import ALL_RULES, BY_ID, PER_CHECK_RULES, SHORT_NAMES

    names = [*BY_ID, "custom", *ALL_RULES,
             *(f"{c}.{r}" for c in BY_ID for r in PER_CHECK_RULES), *SHORT_NAMES]
    seen: dict[str, None] = dict.fromkeys(n for n in names if n.startswith(incomplete))
    return [CompletionItem(name) for name in seen]


@main.command()
@click.argument("name", shell_complete=complete_rule)
@click.option("--rubric", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kb", "kb_dir", type=click.Path(file_okay=False, path_type=Path), default=".")
@_fail_on_config
def explain(name: str, rubric: Path | None, kb_dir: Path) -> None:
    """Print the documentation of a check or of one rule, with the effective settings.

    NAME is a check (wiki_links), a rule by its long (wiki_links.broken-link) or short
    (broken-link) name, or a check's judge rule (wiki_links.judge); `custom` and the
    rubric's custom rules (custom.<name>, or <name>) too."""
    from reviewer.checks import BY_ID, lookup_rule, suggest_names
    from reviewer.rubric import load_rubric

    module = BY_ID.get(name)
    rule = None if module else lookup_rule(name)
    if module is None and rule is None:  # the rubric's own rules are known once it is read
        loaded = load_rubric(rubric, kb_dir)
        rule = lookup_rule(name, loaded)
        if name.strip() == "custom" or rule is not None:
            click.echo(_explain_custom(rule, loaded))
            return
        close = suggest_names(name, loaded)
        hint = f"; did you mean {' or '.join(close)}?" if close else \
            "; `claim-review explain CHECK` lists a check's rules"
        raise UsageFailure(f"unknown check or rule '{name}'{hint}")
    loaded = load_rubric(rubric, kb_dir)
    click.echo(_explain_rule(rule, loaded) if rule else _explain_check(module, loaded))


def _explain_rule(rule: str, loaded) -> str:
    import yaml

    from reviewer.checks import ALL_RULES, rule_doc

    module = ALL_RULES.get(rule) or _judge_check(rule)
    lines = [f"{rule} — severity: {_effective(rule, loaded)} ({module.ID}: {module.TITLE})",
             "", rule_doc(rule), ""]
    if rule.endswith(".judge"):
        lines += [f"What the LLM judge is asked (judge.criteria.{module.ID}):",
                  loaded.judge.criteria.get(module.ID, "").strip() or "(nothing)", ""]
    lines += [f"Effective options of the {module.ID} check:",
              yaml.safe_dump(loaded.options(module.ID), sort_keys=True,
                             allow_unicode=True).rstrip(), "",
              f"The whole check and its other rules: claim-review explain {module.ID}"]
    return "\n".join(lines)


def _judge_check(rule: str):
    from reviewer.checks import BY_ID

    return BY_ID[rule.partition(".")[0]]  # a judge or internal-error rule's check


def _explain_custom(rule: str | None, loaded) -> str:
    """The custom check and the rubric's custom rules, or one of them: its description
    from the rubric and its settings."""
    from reviewer.checks import check_of, documentation, rule_doc
    from reviewer.checks import custom as custom_check

    own = check_of("custom", loaded)
    title = f"custom: {custom_check.TITLE}"
    if rule is None:
        lines = [f"custom — {custom_check.TITLE}", "", documentation(custom_check), "",
                 "Rules of this rubric (effective severity):"]
        if own is None:
            return "\n".join([*lines, "  (none: the rubric declares no custom rules; "
                              "docs/guide.md, Write a custom check, shows how)"])
        lines += [f"  {r}: {_custom_severity(r, own)}" for r in [*own.RULES, *own.CRITERIA]]
        return "\n".join([*lines, "  custom.internal-error: error"])
    lines = [f"{rule} — severity: {_custom_severity(rule, own)} ({title})", "",
             rule_doc(rule, loaded), ""]
    declared = own.rules.get(rule) if own is not None else None
    if declared is not None:
        lines += [*custom_check.describe(declared), ""]
    lines.append("The whole check and its other rules: claim-review explain custom")
    return "\n".join(lines)


def _custom_severity(rule: str, own) -> str:
    if own is not None and rule in own.CRITERIA:
        return f"at most {own.CRITERIA[rule]} (LLM judge)"
    return own.RULES.get(rule, "error") if own is not None else "error"


def _effective(rule: str, loaded) -> str:
    from reviewer.checks import ALL_RULES

    check = rule.split(".", 1)[0]
    if rule.endswith(".judge"):
        return f"at most {loaded.judge.severity.get(check, 'warning')} (LLM judge)"
    return loaded.severity(check, rule, ALL_RULES[rule].RULES[rule])


def _explain_check(module, loaded) -> str:
    import yaml

    from reviewer.checks import documentation

    lines = [f"{module.ID} — {module.TITLE}", "", documentation(module), "",
             "What the LLM judge is asked (judge.criteria." + module.ID + "):"]
    criteria = loaded.judge.criteria.get(module.ID, "").strip()
    lines += [criteria or "(nothing: no criterion is set for this check)", "",
              "Rules (effective severity):"]
    lines += [f"  {rule}: {_effective(rule, loaded)}" for rule in module.RULES]
    lines.append(f"  {module.ID}.judge: {_effective(module.ID + '.judge', loaded)}")
    lines += ["", "Effective options:",
              yaml.safe_dump(loaded.options(module.ID), sort_keys=True,
                             allow_unicode=True).rstrip()]
    return "\n".join(lines)


def in_ci(env=os.environ) -> bool:
    """CI systems set CI (GitHub Actions, GitLab, CircleCI, Travis, Buildkite ...)."""
    return env.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@main.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--kb", "kb_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Root of the knowledge base (default: found as for check).")
@click.option("--rubric", type=click.Path(dir_okay=False, path_type=Path),
              help="Rubric file (default: .claim-review.yaml at the KB root).")
@click.option("--write/--dry-run", "write", default=None,
              help="Apply the fixes, or only show them (default: apply them, except where "
                   "the CI environment variable is set).")
@_fail_on_config
def fix(files: tuple[Path, ...], kb_dir: Path | None, rubric: Path | None,
        write: bool | None) -> None:
    """Apply the certain fixes that `pr` offers as suggestions, and show them as a diff.

    FILES and folders are chosen as for check (no FILES: the whole base). A fix is
    certain when a check's fix hook is sure of it: a broken link with one clear best
    match, a domain or confidence value with one clearly closest allowed value. Only the
    fixed lines change; line endings and every other byte stay as they were. Exit 0 when
    the fixes were written or there was nothing to fix, 1 when a dry run found fixes."""
    from reviewer.change import from_paths
    from reviewer.fixer import plan
    from reviewer.fixer import write as write_fix
    from reviewer.pipeline import build_review
    from reviewer.render import count

    root, files = _root_and_files(kb_dir, files)
    change = from_paths(root, list(files), _rubric(rubric, root, None))
    review = build_review(change, no_llm=True)
    fixes = plan(review, change.ctx, Path(change.ctx.kb.source.root))
    for planned in fixes:
        click.echo(planned.diff(), nl=False)
    lines = count(sum(len(f.lines) for f in fixes), "line")
    if not fixes:
        _log("nothing to fix: no finding has a certain fix")
        sys.exit(EXIT_APPROVE)
    if write is None:
        write = not in_ci()
        if not write:
            _log("CI is set: a dry run (--write applies the fixes)")
    if not write:
        _log(f"would fix {lines} in {count(len(fixes), 'file')}")
        sys.exit(EXIT_CHANGES)
    done = [f for f in fixes if write_fix(f)]
    for stale in (f for f in fixes if f not in done):
        _log(f"warning: {stale.path} changed on disk since it was reviewed; left as it is")
    _log(f"fixed {count(sum(len(f.lines) for f in done), 'line')} in "
         f"{count(len(done), 'file')}")
    sys.exit(EXIT_APPROVE if len(done) == len(fixes) else EXIT_CHANGES)


WORKFLOWS = ("claim-review-collect.yml", "claim-review.yml")  # the recommended two-step pattern


def workflows_dir() -> Path:
    """Installed, the example workflows sit in the package (reviewer/workflows, see
    pyproject.toml); in a source checkout, in examples/workflows."""
    packaged = Path(__file__).resolve().parent / "workflows"
    if (packaged / WORKFLOWS[0]).is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "examples" / "workflows"


@main.command()
@click.option("--kb", "kb_dir", type=click.Path(file_okay=False, path_type=Path),
              default=".", show_default=True, help="Root of the knowledge base.")
@click.option("--workflows", is_flag=True,
              help="Also write the two example GitHub workflows (collect, then review and "
                   "post) into .github/workflows/.")
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@_fail_on_config
def init(kb_dir: Path, workflows: bool, force: bool) -> None:
    """Write a .claim-review.yaml that fits the knowledge base, from what its notes say.

    It reads the type, domain and confidence values the notes use, where claims live and
    how files are named. Folders whose typed notes are mostly claims become claims.paths;
    notes there of another document type (a framework, a topic map), or with no type and
    no claim fields (a map, a README), go to claims.exclude, so they are not reviewed as
    misfiled claims. Nothing is overwritten without --force."""
    from reviewer.atomic import write_atomic
    from reviewer.rubric import KB_CONFIG, load_rubric
    from reviewer.survey import rubric_text, survey

    targets = [kb_dir / KB_CONFIG]
    if workflows:
        targets += [kb_dir / ".github" / "workflows" / name for name in WORKFLOWS]
    there = [str(t) for t in targets if os.path.lexists(t)]
    if there and not force:
        raise UsageFailure(f"{', '.join(there)} already exist(s); --force overwrites")
    found = survey(kb_dir)
    text = rubric_text(found)
    write_atomic(targets[0], text.encode("utf-8"))
    load_rubric(None, kb_dir)  # what init writes must load; a failure here is a bug
    for line in found.summary():
        _log(line)
    _log(f"wrote {targets[0]}")
    for target in targets[1:]:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, (workflows_dir() / target.name).read_bytes())
        _log(f"wrote {target}")
    if workflows:
        _log("pin the claim-review action in the workflows to a release commit before "
             "merging them (README, 'Use it in GitHub Actions', step 4)")


@main.group(name="rubric", invoke_without_command=True)
@click.option("--rubric", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kb", "kb_dir", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--json-schema", is_flag=True,
              help="Print the JSON Schema of .claim-review.yaml instead (for editors).")
@click.pass_context
@_fail_on_config
def rubric_cmd(ctx: click.Context, rubric: Path | None, kb_dir: Path,
               json_schema: bool) -> None:
    """Validate and print the effective rubric (after extends and overrides), or with
    --json-schema the JSON Schema every rubric file follows.

    Its commands test a rubric against cases (test) and measure a change to it (impact)."""
    if ctx.invoked_subcommand is not None:
        return
    import yaml

    from reviewer.rubric import load_rubric

    if json_schema:
        import json

        from reviewer.rubric_schema import rubric_schema

        click.echo(json.dumps(rubric_schema(), indent=2, ensure_ascii=False))
        return
    loaded = load_rubric(rubric, kb_dir)
    click.echo("# loaded from: " + " <- ".join(reversed(loaded.origin)))
    click.echo(yaml.safe_dump(loaded.data, sort_keys=False, allow_unicode=True).rstrip())


# -- GitHub: post the review, and read verdicts back ---------------------------------
@main.command()
@click.option("--repo", "repo_name", metavar="OWNER/NAME",
              help="The GitHub repository (default: GITHUB_REPOSITORY).")
@click.option("--pr", "number", type=click.IntRange(min=1), metavar="N",
              help="The pull request (default: the one of GITHUB_EVENT_PATH).")
@click.option("--repo-dir", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="The git checkout, with full history.")
@click.option("--api-url", metavar="URL",
              help="GitHub API base URL; GITHUB_API_URL wins (default: api.github.com).")
@click.option("--rubric", type=click.Path(dir_okay=False, path_type=Path),
              help="Rubric file; inside the checkout it is read from the base commit "
                   "(default: the base commit's .claim-review.yaml).")
@click.option("--no-llm", is_flag=True, help="Run the deterministic checks only.")
@click.option("--model", metavar="MODEL", help="Anthropic model for the LLM judge.")
@click.option("--dry-run", is_flag=True, help="Print what would be posted; post nothing.")
@click.option("--force", is_flag=True, help="Post even if this head SHA has our verdict.")
@click.option("--post-as", type=click.Choice(["review", "comment"]),
              help="Override the rubric's github.post_as.")
@click.option("--reviewer-key", metavar="KEY", help="Override the rubric's reviewer.key.")
@click.option("--fail-on", type=click.Choice(["request-changes", "never"]),
              default="request-changes", show_default=True,
              help="never: exit 0 on REQUEST_CHANGES too.")
@click.option("--artifact", type=click.Path(file_okay=False, path_type=Path),
              help="Two-step workflow: the folder holding pr.json and pr.bundle.")
@_fail_on_config
def pr(repo_name: str | None, number: int | None, repo_dir: Path, api_url: str | None,
       rubric: Path | None, no_llm: bool, model: str | None, dry_run: bool, force: bool,
       post_as: str | None, reviewer_key: str | None, fail_on: str,
       artifact: Path | None) -> None:
    """Review a pull request from git and post the review on it.

    In GitHub Actions the pull request comes from the event; elsewhere pass --repo and
    --pr. Exit 0 APPROVE, 1 REQUEST_CHANGES, 2 usage, configuration or GitHub API error,
    3 no verdict (the head moved, or the review is incomplete)."""
    import os

    from reviewer.github import GitHubError
    from reviewer.pr import PrError, PrOptions, PrOutcome, run, write_outputs

    options = PrOptions(repo=repo_name, pr=number, repo_dir=repo_dir, api_url=api_url,
                      rubric=rubric, no_llm=no_llm, model=model, dry_run=dry_run, force=force,
                      post_as=post_as, reviewer_key=reviewer_key, fail_on=fail_on,
                      artifact=artifact)
    try:
        outcome = run(options, os.environ, _log, click.echo)
    except (PrError, GitHubError) as exc:
        write_outputs(os.environ, PrOutcome(EXIT_USAGE))
        raise UsageFailure(str(exc)) from exc
    write_outputs(os.environ, outcome)
    sys.exit(outcome.code)


@main.command()
@click.option("--repo", "repo_name", metavar="OWNER/NAME",
              help="The GitHub repository (default: GITHUB_REPOSITORY).")
@click.option("--pr", "number", type=click.IntRange(min=1), required=True, metavar="N")
@click.option("--require", metavar="KEY,...",
              help="Reviewer keys that must approve (default: the rubric's reviewer.key).")
@click.option("--rubric", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Rubric file (default: .claim-review.yaml of the base commit).")
@click.option("--api-url", metavar="URL",
              help="GitHub API base URL; GITHUB_API_URL wins (default: api.github.com).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@_fail_on_config
def gate(repo_name: str | None, number: int, require: str | None, rubric: Path | None,
         api_url: str | None, fmt: str) -> None:
    """May an orchestrator merge this pull request on claim-review's verdict?

    Prints `eligible`, or each blocking reason; ignored markers are listed as info.
    Exit 0 eligible, 1 blocked, 2 usage, configuration or GitHub API error."""
    import os

    from reviewer.gate import GateError, render, render_json, run_gate
    from reviewer.github import GitHubError

    repo_name = repo_name or os.environ.get("GITHUB_REPOSITORY")
    if not repo_name or repo_name.count("/") != 1:
        raise UsageFailure("--repo OWNER/NAME is required (or GITHUB_REPOSITORY)")
    keys = [k.strip() for k in (require or "").split(",") if k.strip()]
    try:
        outcome = run_gate(repo_name, number, keys, rubric, api_url, os.environ, _log)
    except (GateError, GitHubError) as exc:
        raise UsageFailure(str(exc)) from exc
    if fmt == "json":
        click.echo(render_json(outcome))
    else:
        click.echo(render(outcome), nl=False)
    sys.exit(EXIT_APPROVE if outcome.eligible else EXIT_CHANGES)


def _log(message: str) -> None:
    click.echo(f"claim-review: {message}", err=True)


# -- the rubric author's loop: rubric tests, calibration, the impact of a change ------
@rubric_cmd.command(name="test")
@click.argument("target", type=click.Path(exists=True, path_type=Path))
@click.option("--rubric", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The rubric of cases that name none (default: the built-in default).")
@click.option("-q", "--quiet", is_flag=True, help="Print failed cases and the totals only.")
@click.option("--coverage", is_flag=True,
              help="Also list, per rubric, the rules no passing case expects.")
@_fail_on_config
def rubric_test(target: Path, rubric: Path | None, quiet: bool, coverage: bool) -> None:
    """Run the rubric test cases in TARGET (a folder of YAML cases, or one case).

    Each case is a note and the findings it must produce (rule and line); see
    rubrics/tests/README.md. Exit 0 when every case passes, 1 when one fails."""
    from reviewer.cases import report, run_cases, uncovered

    outcomes = run_cases(target, rubric)
    click.echo(report(outcomes, quiet=quiet), nl=False)
    if coverage:
        for label, rules in uncovered(outcomes).items():
            click.echo(f"not exercised under {label}: {', '.join(rules) or 'none'}")
    sys.exit(EXIT_APPROVE if all(o.passed for o in outcomes) else EXIT_CHANGES)


@main.command()
@click.option("--gold", "gold_path", required=True, type=click.Path(exists=True, path_type=Path),
              help="The gold file (gold.yaml), or the folder that holds it.")
@click.option("--rubric", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Rubric file (default: .claim-review.yaml of the gold set's kb).")
@click.option("--no-llm", is_flag=True, help="Run the deterministic checks only.")
@click.option("--model", metavar="MODEL", help="Anthropic model for the LLM judge.")
@click.option("--repeat", type=click.IntRange(min=1), default=1, show_default=True,
              help="Review the set N times (the judge asked afresh each time) and report "
                   "how often outcomes flip.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]),
              default="text", show_default=True,
              help="markdown: the table alone, to paste into a README or a pull request.")
@click.option("--min-kappa", type=float, metavar="K",
              help="Exit 1 when a check's Cohen's kappa is below K.")
@click.option("--min-recall", type=float, metavar="R",
              help="Exit 1 when a check's recall is below R.")
@_fail_on_config
def calibrate(gold_path: Path, rubric: Path | None, no_llm: bool, model: str | None,
              repeat: int, fmt: str, min_kappa: float | None,
              min_recall: float | None) -> None:
    """Measure agreement with a human-labelled gold set, per check.

    Prints precision, recall, F1 and Cohen's kappa per check (a check fails on a claim
    when the review has a new finding of it at or above verdict.fail_on), the confusion
    matrix, the verdict agreement and the disagreements by path. Exit 0, or 1 when
    --min-kappa or --min-recall is not met."""
    import json

    from reviewer import calibrate as calibration

    try:
        gold = calibration.load_gold(gold_path)
    except calibration.GoldError as exc:
        raise UsageFailure(str(exc)) from exc
    loaded = _rubric(rubric, gold.kb, model)
    result = calibration.calibrate(gold, loaded, no_llm, repeat)
    failures = calibration.gate(result, min_kappa, min_recall)
    shown_gold, shown_kb = _shown(gold.file), _shown(gold.kb)
    if fmt == "json":
        click.echo(json.dumps(calibration.as_dict(result, shown_gold, shown_kb), indent=2))
        for failure in failures:
            _log(f"gate failed: {failure}")
    elif fmt == "markdown":
        click.echo("\n".join(calibration.table(result, markdown=True)))
        for failure in failures:
            _log(f"gate failed: {failure}")
    else:
        click.echo(calibration.render_text(result, shown_gold, shown_kb), nl=False)
    sys.exit(EXIT_CHANGES if failures else EXIT_APPROVE)


def _shown(path: Path) -> str:
    """A path relative to the working folder when it is under it."""
    import os

    shown = os.path.relpath(path)
    return path.as_posix() if shown.startswith("..") else Path(shown).as_posix()


@rubric_cmd.command(name="impact")
@click.option("--against", required=True, metavar="REF|FILE|NAME",
              help="The rubric before the change: a rubric file, a built-in rubric name, or "
                   "a git ref (the rubric file as it is at that commit).")
@click.option("--kb", "kb_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Root of the knowledge base (default: found as for check).")
@click.option("--rubric", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The rubric after the change (default: .claim-review.yaml at the KB "
                   "root, else the built-in default).")
@click.option("--examples", type=click.IntRange(min=0), default=3, show_default=True,
              help="Findings shown per rule and kind of change.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]),
              default="text", show_default=True)
@_fail_on_config
def rubric_impact(against: str, kb_dir: Path | None, rubric: Path | None, examples: int,
                  fmt: str) -> None:
    """What a rubric change does to the findings of the whole knowledge base.

    Reviews every claim (deterministic checks, no baseline) with the rubric before the
    change (--against) and after it (--rubric, or the knowledge base's own), and prints
    per rule the findings added and removed, with examples. --against is read as a file
    when one exists there, else as a built-in rubric name, else as a git ref."""
    import json

    from reviewer.impact import as_dict, impact_table, measure, rubric_after, rubric_before

    root, _files = _root_and_files(kb_dir, ())
    old, before = rubric_before(against, root, rubric)
    new, after = rubric_after(root, rubric)
    impact = measure(old, new, root=root, before=before, after=after)
    if fmt == "json":
        click.echo(json.dumps(as_dict(impact, examples), indent=2))
    else:
        click.echo(impact_table(impact, markdown=fmt == "markdown", examples=examples),
                   nl=False)


# -- the whole base: audit -----------------------------------------------------------
@main.command()
@click.argument("reports", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kb", "kb_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Root of the knowledge base (default: found as for check).")
@click.option("--rubric", type=click.Path(dir_okay=False, path_type=Path),
              help="Rubric file (default: .claim-review.yaml at the KB root).")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("claim-review-audit"), show_default=True,
              help="Where the reports (claim-review-audit.md, .json) and a batch's state go.")
@click.option("--compare", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              metavar="PREVIOUS.json", help="An earlier audit's JSON report: the trend per rule.")
@click.option("--shard", metavar="I/N",
              help="Audit shard I of N (a stable hash of each path): for a CI matrix.")
@click.option("--merge", is_flag=True,
              help="Merge the shard JSON REPORTS given as arguments into one report.")
@click.option("--judge", "realtime", is_flag=True,
              help="Run the LLM judge through the Messages API, as check does.")
@click.option("--batch", is_flag=True,
              help="Run the LLM judge through the Message Batches API (half the price).")
@click.option("--dry-run", is_flag=True, help="--batch: print the estimate and send nothing.")
@click.option("--max-requests", type=click.IntRange(min=0), metavar="N",
              help="--batch: send at most N requests (default: the rubric's judge.max_claims).")
@click.option("--max-cost", type=click.FloatRange(min=0), metavar="USD",
              help="--batch: send only what the estimate keeps under USD.")
@click.option("--poll-interval", type=click.FloatRange(min=0, min_open=True), default=15.0,
              show_default=True, metavar="SECONDS",
              help="--batch: the first wait between polls; each wait grows by half.")
@click.option("--model", metavar="MODEL", help="Anthropic model for the LLM judge.")
@click.option("--cache-dir", metavar="DIR", default=None,
              help="Folder of the persistent index of the knowledge base (as for check).")
@_fail_on_config
def audit(reports: tuple[Path, ...], kb_dir: Path | None, rubric: Path | None,
          output_dir: Path, compare: Path | None, shard: str | None, merge: bool,
          realtime: bool, batch: bool, dry_run: bool, max_requests: int | None,
          max_cost: float | None, poll_interval: float, model: str | None,
          cache_dir: str | None) -> None:
    """Audit the whole knowledge base: counts per rule and severity, the worst files, and
    the trend against an earlier report, as markdown and JSON in --output-dir.

    Deterministic unless --judge or --batch. `audit --merge REPORT.json ...` merges the
    reports of shards. Exit 0 when the report is written, 2 on a usage or configuration
    error, 3 when the report is incomplete (missing shards, a required judge that could
    not finish)."""
    from reviewer import audit as audit_module
    from reviewer.batch import BatchError

    _audit_usage(reports, merge, realtime, batch, dry_run, max_requests, max_cost)
    try:
        if merge:
            if kb_dir or rubric or shard or realtime or batch or model:
                raise UsageFailure("--merge takes only REPORTS, --output-dir and --compare")
            code = audit_module.run_merge(list(reports), output_dir, compare, click.echo)
        else:
            root, _files = _root_and_files(kb_dir, ())
            loaded = _rubric(rubric, root, model)
            options = audit_module.AuditOptions(
                root=root, rubric=loaded, output_dir=output_dir,
                shard=audit_module.Shard.parse(shard) if shard else None,
                judge="batch" if batch else "realtime" if realtime else "off",
                compare=compare, index=_index(cache_dir, loaded), dry_run=dry_run,
                max_requests=max_requests, max_cost=max_cost, poll_interval=poll_interval)
            progress = audit_module.progress_for(sys.stderr)
            code = audit_module.run_audit(options, click.echo, progress)
    except (audit_module.AuditError, BatchError) as exc:
        raise UsageFailure(str(exc)) from exc
    except KeyboardInterrupt:
        _log("interrupted; a batch already sent is recorded in "
             f"{output_dir / audit_module.STATE_NAME}: the same command resumes it")
        sys.exit(130)
    sys.exit(code)


def _audit_usage(reports: tuple[Path, ...], merge: bool, realtime: bool, batch: bool,
                 dry_run: bool, max_requests: int | None, max_cost: float | None) -> None:
    if reports and not merge:
        raise UsageFailure("report files are arguments of --merge only")
    if merge and not reports:
        raise UsageFailure("--merge needs the shard reports to merge (REPORT.json ...)")
    if realtime and batch:
        raise UsageFailure("--judge and --batch exclude each other")
    if not batch and (dry_run or max_requests is not None or max_cost is not None):
        raise UsageFailure("--dry-run, --max-requests and --max-cost go with --batch")
