"""claim-review init: a rubric that fits the base, from what its notes say about themselves."""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import claim_text, write_tree

from reviewer.rubric import KB_CONFIG, load_rubric

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("CLAIM_REVIEW_CORPUS",
                             REPO.parent / "shared" / "corpora" / "teleo-kb"))


def cli(*args: str):
    from reviewer.cli import main

    return CliRunner().invoke(main, list(args))


def note(kind: str, title: str, **fields) -> str:
    head = yaml.safe_dump({"type": kind, **fields}, sort_keys=False)
    return f"---\n{head}---\n\n# {title}\n\nSee [[{title}]].\n"


def a_claim(title: str, domain: str = "urban-transit", **fields) -> str:
    return claim_text(title, domain=domain, description=f"What {title.lower()} says, measured "
                      "in 2024 across 40 corridors", **fields)


TITLES = ["Bus lanes cut trip times on congested arterials",
          "Signal priority shortens bus trips on long-cycle corridors",
          "All-door boarding shortens dwell times at busy stops",
          "Cover crops raise topsoil carbon over a decade",
          "No-till farming moves soil carbon toward the surface"]


@pytest.fixture
def base(tmp_path) -> Path:
    """Claims in domains/, with a framework, a topic map, maps without frontmatter and a
    claim with broken frontmatter among them; sources and a README elsewhere."""
    files = {f"domains/{'urban-transit' if i < 3 else 'soil-science'}/{t}.md":
             a_claim(t, "urban-transit" if i < 3 else "soil-science")
             for i, t in enumerate(TITLES)}
    files.update({
        "domains/urban-transit/Transit design framework.md":
            note("framework", "Transit design framework", domain="urban-transit"),
        "domains/soil-science/soil-science.md": note("topic-map", "Soil science"),
        "domains/urban-transit/_map.md": "# Urban transit\n\n- [[Bus lanes]]\n",
        "domains/soil-science/_map.md": "# Soil science\n",
        "domains/_map.md": "# Domains\n",
        "domains/urban-transit/Ferries beat buses on river corridors.md":
            "---\ntype: claim\ndomain: [unclosed\n---\n\n# Ferries beat buses on river "
            "corridors\n",
        "domains/urban-transit/Trams outlast buses on busy corridors.md":
            a_claim("Trams outlast buses on busy corridors", type="Claim"),
        "domains/urban-transit/Cable cars climb where buses stall on steep streets.md":
            a_claim("Cable cars climb where buses stall on steep streets", domain="urbn"),
        "sources/Corridor study.md": note("source", "Corridor study"),
        "sources/Carbon survey.md": note("source", "Carbon survey"),
        "README.md": "# Our knowledge base\n",
    })
    return write_tree(tmp_path / "kb", files)


def init_rubric(root: Path) -> dict:
    result = cli("init", "--kb", str(root))
    assert result.exit_code == 0, result.output
    return yaml.safe_load((root / KB_CONFIG).read_text(encoding="utf-8"))


def test_init_puts_other_document_types_outside_the_claims(base):
    data = init_rubric(base)
    assert data["extends"] == "default"
    assert data["claims"]["paths"] == ["domains/**"]
    assert data["claims"]["exclude"] == [
        "**/_map.md", "domains/soil-science/soil-science.md",
        "domains/urban-transit/Transit design framework.md"]
    assert data["schema"]["domains"] == ["soil-science", "urban-transit"]


def test_check_after_init_reports_claims_not_other_documents(base):
    init_rubric(base)
    result = cli("check", "--kb", str(base), "--no-llm", "--format", "json")
    data = json.loads(result.stdout)
    found = {(r["path"].rsplit("/", 1)[-1], f["rule"]) for r in data["files"]
             for f in r["findings"]}
    assert not [f for f in found if f[1] == "schema.wrong-type" and "framework" in f[0]]
    assert ("Trams outlast buses on busy corridors.md", "schema.wrong-type") in found
    assert ("Ferries beat buses on river corridors.md", "schema.invalid-yaml") in found
    assert ("Cable cars climb where buses stall on steep streets.md",
            "schema.invalid-domain") in found  # used once: left out, so reported
    assert data["summary"]["reviewed"] == len(TITLES) + 3
    assert not {p for p, _r in found} & {"_map.md", "README.md", "soil-science.md"}


def test_init_says_how_it_told_them_apart(base):
    result = cli("init", "--kb", str(base))
    assert "claims.paths (folders whose typed notes are mostly claims): domains/**" in \
        result.stderr
    assert "framework 1" in result.stderr and "topic-map 1" in result.stderr
    assert "left out, used by one claim only: urbn" in result.stderr
    assert load_rubric(None, base).claims_paths == ["domains/**"]


def test_init_refuses_to_overwrite_without_force(base):
    (base / KB_CONFIG).write_text("extends: default\n", encoding="utf-8")
    refused = cli("init", "--kb", str(base))
    assert refused.exit_code == 2 and "--force overwrites" in refused.stderr
    assert (base / KB_CONFIG).read_text(encoding="utf-8") == "extends: default\n"
    assert cli("init", "--kb", str(base), "--force").exit_code == 0
    assert "claims:" in (base / KB_CONFIG).read_text(encoding="utf-8")


def test_init_writes_the_two_workflows_on_request(base):
    result = cli("init", "--kb", str(base), "--workflows")
    assert result.exit_code == 0, result.output
    for name in ("claim-review-collect.yml", "claim-review.yml"):
        written = base / ".github" / "workflows" / name
        assert written.read_bytes() == (REPO / "examples" / "workflows" / name).read_bytes()
    (base / KB_CONFIG).unlink()
    again = cli("init", "--kb", str(base), "--workflows")
    assert again.exit_code == 2 and "claim-review.yml" in again.stderr
    assert not (base / KB_CONFIG).exists()  # nothing is written when anything would be lost


def test_slug_file_names_and_a_fitting_preset(tmp_path):
    teleo = ["health", "ai-alignment", "internet-finance"]
    files = {}
    for i, title in enumerate(TITLES * 2):
        title = f"{title} in study {i}"
        slug = "-".join(title.lower().split())
        files[f"claims/{slug}.md"] = a_claim(title, teleo[i % 3])
    root = write_tree(tmp_path / "kb", files)
    data = init_rubric(root)
    assert data["extends"] == "teleo-codex"
    assert data["checks"]["schema"]["title_match"] == "slug"
    assert data["claims"] == {"paths": ["claims/**"], "exclude": []}
    assert "domains" not in data.get("schema", {})  # the preset lists them already


@pytest.mark.skipif(not (CORPUS / "domains").is_dir(), reason="no Teleo Codex corpus")
def test_on_the_real_base_init_beats_the_hand_written_preset(tmp_path):
    root = tmp_path / "teleo"
    shutil.copytree(CORPUS, root)
    for folder, _dirs, files in os.walk(root):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)

    def by_rule(*args: str) -> Counter:
        result = cli("check", "--kb", str(root), "--no-llm", "--format", "json", *args)
        return Counter(f["rule"] for r in json.loads(result.stdout)["files"]
                       for f in r["findings"])

    preset = by_rule("--rubric", str(REPO / "rubrics" / "teleo-codex.yaml"))
    init_rubric(root)
    fitted = by_rule()
    assert preset["schema.wrong-type"] == 41 and fitted["schema.wrong-type"] == 0
    assert sum(fitted.values()) < sum(preset.values())
    assert all(fitted[rule] <= preset[rule] for rule in preset)
