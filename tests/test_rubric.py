"""rubric: extends chains, where the rubric is found, and errors that name the file and key."""

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_tree

from reviewer.cli import main
from reviewer.rubric import KB_CONFIG, RubricError, builtin_dir, load_rubric

DEFAULT = str(builtin_dir() / "default.yaml")
TELEO = str(builtin_dir() / "teleo-codex.yaml")


def options(rubric, check_id):
    from reviewer.checks import BY_ID

    return rubric.check_options(check_id, BY_ID[check_id].DEFAULTS)


def test_default_alone(tmp_path):
    rubric = load_rubric(None, tmp_path)
    assert rubric.origin == [DEFAULT]
    assert (rubric.reviewer_key, rubric.fail_on) == ("LEO", "error")
    assert options(rubric, "specificity")["min_words"] == 4


def test_kb_config_is_picked_up_from_the_kb_root(tmp_path):
    write_tree(tmp_path, {KB_CONFIG: "checks:\n  specificity:\n    min_words: 6\n"})
    rubric = load_rubric(None, tmp_path)
    assert rubric.origin == [DEFAULT, str(tmp_path / KB_CONFIG)]
    assert options(rubric, "specificity")["min_words"] == 6
    assert options(rubric, "specificity")["description_similarity"] == 85  # merged, not replaced


def test_explicit_rubric_wins_over_the_kb_config(tmp_path):
    write_tree(tmp_path, {KB_CONFIG: "checks:\n  specificity:\n    min_words: 6\n",
                          "strict.yaml": "verdict:\n  fail_on: warning\n"})
    rubric = load_rubric(tmp_path / "strict.yaml", tmp_path)
    assert rubric.origin == [DEFAULT, str(tmp_path / "strict.yaml")]
    assert rubric.fail_on == "warning"
    assert options(rubric, "specificity")["min_words"] == 4


def test_extends_chain_default_teleo_codex_local(tmp_path):
    write_tree(tmp_path, {KB_CONFIG: (
        "extends: teleo-codex\n"
        "schema:\n  domains: [health, energy]\n"
        "checks:\n  specificity:\n    min_words: 5\n")})
    rubric = load_rubric(None, tmp_path)
    assert rubric.origin == [DEFAULT, TELEO, str(tmp_path / KB_CONFIG)]
    assert rubric.reviewer_name == "Leo (claim-review)"  # from teleo-codex
    assert rubric.schema["domains"] == ["health", "energy"]  # lists replace
    assert rubric.claims_exclude == ["**/_map.md", "**/_index.md", "**/README.md"]
    spec = options(rubric, "specificity")
    assert spec["min_words"] == 5  # local
    assert "nothing" not in spec["universals"]  # teleo-codex's shorter list
    assert options(rubric, "schema")["title_match"] == "either"  # slug or verbatim names
    assert rubric.severity("schema", "schema.deleted-claim", "warning") == "error"
    assert options(rubric, "duplication")["error_threshold"] == 95  # default, untouched


def test_extends_a_file_next_to_it(tmp_path):
    write_tree(tmp_path, {
        KB_CONFIG: "extends: shared/base.yaml\nverdict:\n  fail_on: warning\n",
        "shared/base.yaml": "extends: teleo-codex\nreviewer:\n  key: ACME\n"})
    rubric = load_rubric(None, tmp_path)
    assert rubric.origin[1:] == [TELEO, str((tmp_path / "shared/base.yaml").resolve()),
                                 str(tmp_path / KB_CONFIG)]
    assert (rubric.reviewer_key, rubric.fail_on) == ("ACME", "warning")


def test_teleo_codex_preset_has_fourteen_domains(tmp_path):
    rubric = load_rubric(Path(TELEO), tmp_path)
    assert len(rubric.schema["domains"]) == 14
    assert len(set(rubric.schema["domains"])) == 14
    assert rubric.claims_paths == ["domains/**", "core/**", "foundations/**"]


def test_off_is_a_word_not_false(tmp_path):
    write_tree(tmp_path, {KB_CONFIG: "checks:\n  schema:\n    title_match: off\n"
                                     "    severity: {unknown-field: off, missing-title: info}\n"})
    rubric = load_rubric(None, tmp_path)
    assert options(rubric, "schema")["title_match"] == "off"
    assert rubric.severity("schema", "schema.unknown-field", "info") == "off"
    assert rubric.severity("schema", "schema.missing-title", "warning") == "info"


# text of the rubric file, the text the error must contain (beside the file's name)
BAD_RUBRICS = [
    ("colour: red\n", "unknown key 'colour'"),
    ("checks:\n  spelling:\n    enabled: true\n", "'checks.spelling'"),
    ("checks:\n  specificity:\n    min_word: 6\n", "'checks.specificity.min_word'"),
    ("checks:\n  schema:\n    severity: {nope: warning}\n", "'checks.schema.severity.nope'"),
    ("checks:\n  schema:\n    severity: {unknown-field: fatal}\n",
     "'checks.schema.severity.unknown-field'"),
    ("checks:\n  schema:\n    severity: [unknown-field]\n", "'checks.schema.severity'"),
    ("checks:\n  specificity:\n    min_words: six\n", "'checks.specificity.min_words'"),
    ("checks:\n  specificity:\n    enabled: yes\n", "'checks.specificity.enabled'"),
    ("files:\n  max_bytes: true\n", "'files.max_bytes'"),
    ("schema:\n  domains: health\n", "'schema.domains'"),
    ("checks:\n  schema: false\n", "'checks.schema'"),
    ("verdict:\n  fail_on: info\n", "'verdict.fail_on'"),
    ("reviewer:\n  key: has space\n", "'reviewer.key'"),
    ("extends: [default]\n", "'extends'"),
    ("extends: no-such-preset\n", "'extends: no-such-preset'"),
    ("schema:\n  domains: [a, b\n", "not valid YAML"),
    ("- just\n- a list\n", "must be a mapping"),
]


@pytest.mark.parametrize(("text", "names"), BAD_RUBRICS, ids=[n for _, n in BAD_RUBRICS])
def test_bad_rubric_names_the_file_and_the_key(tmp_path, text, names):
    write_tree(tmp_path, {KB_CONFIG: text})
    with pytest.raises(RubricError) as error:
        load_rubric(None, tmp_path)
    assert str(error.value).startswith(str(tmp_path / KB_CONFIG))
    assert names in str(error.value)


def test_invalid_yaml_names_the_line(tmp_path):
    write_tree(tmp_path, {KB_CONFIG: "verdict:\n  fail_on: error\nschema:\n  domains: [a, b\n"})
    with pytest.raises(RubricError, match=r"\.claim-review\.yaml:\d+: rubric is not valid YAML"):
        load_rubric(None, tmp_path)


def test_error_in_an_extended_file_names_that_file(tmp_path):
    write_tree(tmp_path, {KB_CONFIG: "extends: base.yaml\n",
                          "base.yaml": "checks:\n  schema:\n    severity: {nope: warning}\n",
                          "fail.yaml": "extends: verdict.yaml\n",
                          "verdict.yaml": "verdict:\n  fail_on: info\n"})
    with pytest.raises(RubricError, match=r"base\.yaml: unknown rule 'checks\.schema\.severity"):
        load_rubric(None, tmp_path)
    with pytest.raises(RubricError, match=r"verdict\.yaml: 'verdict\.fail_on'"):
        load_rubric(tmp_path / "fail.yaml", tmp_path)


def test_extends_cycle(tmp_path):
    write_tree(tmp_path, {"a.yaml": "extends: b.yaml\n", "b.yaml": "extends: a.yaml\n"})
    with pytest.raises(RubricError, match="'extends' forms a cycle"):
        load_rubric(tmp_path / "a.yaml", tmp_path)


def test_missing_explicit_rubric(tmp_path):
    with pytest.raises(RubricError, match=r"nope\.yaml: cannot read rubric"):
        load_rubric(tmp_path / "nope.yaml", tmp_path)


@pytest.mark.parametrize("command", [["rubric"], ["check", "--no-llm"],
                                     ["explain", "schema"]])
def test_cli_reports_a_bad_rubric_in_one_line_and_exits_2(tmp_path, command):
    write_tree(tmp_path, {KB_CONFIG: "checks:\n  specificity:\n    min_word: 6\n"})
    result = CliRunner().invoke(main, [*command, "--kb", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("claim-review: error: ")
    assert str(tmp_path / KB_CONFIG) in lines[0] and "'checks.specificity.min_word'" in lines[0]
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, RubricError)


def test_built_in_rubrics_are_found_in_an_installed_layout(tmp_path):
    """`pip install .` (the Action's install) puts rubrics/ inside the package."""
    import shutil
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent
    site = tmp_path / "site-packages"
    shutil.copytree(repo / "reviewer", site / "reviewer",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(repo / "rubrics", site / "reviewer" / "rubrics")
    code = ("from reviewer.rubric import builtin_dir, load_rubric; from pathlib import Path; "
            "import sys; p = Path(sys.argv[1]); p.write_text('extends: teleo-codex\\n'); "
            "print(builtin_dir()); print(load_rubric(p).reviewer_name)")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "r.yaml")],
                          capture_output=True, text=True, env={"PYTHONPATH": str(site)},
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    where, name = done.stdout.splitlines()
    assert where == str(site / "reviewer" / "rubrics")
    assert name == "Leo (claim-review)"


@pytest.mark.parametrize("snippet, says", [
    ("checks:\n  duplication:\n    error_threshold: 150\n",
     "'checks.duplication.error_threshold' must be a number from 0 to 100 (got 150)"),
    ("checks:\n  wiki_links:\n    suggestions: -1\n",
     "'checks.wiki_links.suggestions' must be a number from 0 to 20"),
    ("checks:\n  schema:\n    title_match: exact\n",
     "'checks.schema.title_match' must be one of slug, verbatim, either, off (got 'exact')"),
    ("github:\n  max_body_chars: 100\n", "'github.max_body_chars' must be a number from 2000"),
    ("verdict:\n  fail_on: info\n", "'verdict.fail_on' must be one of error, warning"),
])
def test_option_ranges_and_choices_are_checked(tmp_path, snippet, says):
    """`error_threshold: 150` used to load and silently turn duplicate detection off."""
    path = tmp_path / "rubric.yaml"
    path.write_text(snippet, encoding="utf-8")
    with pytest.raises(RubricError, match="rubric.yaml: ") as caught:
        load_rubric(path)
    assert says in str(caught.value)


def test_overrides_make_a_new_validated_rubric_and_leave_the_old_one():
    base = load_rubric(None)
    changed = base.with_overrides(reviewer_key="RIO", post_as="comment", model="m-1")
    assert (changed.reviewer_key, changed.github.post_as, changed.judge.model) == \
        ("RIO", "comment", "m-1")
    assert (base.reviewer_key, base.github.post_as) == ("LEO", "review")
    assert changed.origin[-1] == "command line" and changed.digest() != base.digest()
    assert base.with_overrides() is base
    with pytest.raises(RubricError, match="command line: 'github.post_as'"):
        base.with_overrides(post_as="carrier-pigeon")


def test_rubric_data_cannot_be_changed_through_its_accessors():
    rubric = load_rubric(None)
    rubric.data["reviewer"]["key"] = "X"
    rubric.options("specificity")["min_words"] = 99
    assert rubric.reviewer_key == "LEO" and rubric.options("specificity")["min_words"] == 4
