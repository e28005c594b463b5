from conftest import add_claim, claim_text, rules, run_check

TITLE = "Bus lanes cut trip times on congested arterials"


def review_body(kb, body, **fields):
    path = add_claim(kb, f"domains/urban-transit/{TITLE}.md", claim_text(TITLE, body=body,
                                                                         **fields))
    return run_check(kb, [path])


def test_resolving_links_in_every_form_pass(kb):
    body = ("See [[Existing claim about buses]], [[existing CLAIM about buses|alias]],\n"
            "[[domains/urban-transit/Existing claim about buses.md]], "
            "and the embed ![[Existing claim about buses]].\n")
    assert rules(review_body(kb, body), "wiki_links") == []


def test_broken_link_names_closest_note(kb):
    result = review_body(kb, "intro\n\nSee [[Existing claim about bsues]] here.\n")
    assert rules(result, "wiki_links") == [(15, "wiki_links.broken-link")]
    finding = next(f for f in result.findings if f.check == "wiki_links")
    assert finding.extras["target"] == "Existing claim about bsues"
    assert finding.extras["suggestions"][0] == "Existing claim about buses"
    assert "Existing claim about buses" in finding.message
    assert finding.column == 5


def test_links_in_code_are_ignored(kb):
    body = "```\n[[Nowhere at all]]\n```\n\nInline `[[Nowhere]]` too.\n"
    assert rules(review_body(kb, body), "wiki_links") == []


def test_link_escaping_the_repository_is_broken_and_never_read(kb):
    # relative to domains/urban-transit/: two levels up is the root, three leave it
    result = review_body(kb, "See [[../../../etc/passwd]] and [[../../etc/passwd]].\n")
    assert rules(result, "wiki_links") == [(13, "wiki_links.broken-link"),
                                           (13, "wiki_links.link-outside-kb")]


def test_ambiguous_link_is_reported(kb):
    add_claim(kb, "domains/soil-science/Existing claim about buses.md",
              claim_text("Existing claim about buses", domain="soil-science"))
    add_claim(kb, "notes/x.md", "no frontmatter")
    path = add_claim(kb, f"other/{TITLE}.md",
                     claim_text(TITLE, body="[[Existing claim about buses]]"))
    result = run_check(kb, [path])
    assert rules(result, "wiki_links") == [(13, "wiki_links.ambiguous-link")]


def test_same_folder_wins_an_ambiguous_name(kb):
    add_claim(kb, "domains/soil-science/Existing claim about buses.md",
              claim_text("Existing claim about buses", domain="soil-science"))
    result = review_body(kb, "See [[Existing claim about buses]].\n")
    assert rules(result, "wiki_links") == []


def test_link_to_a_claim_of_the_same_change_resolves(kb, tmp_path):
    proposed = tmp_path / "proposed"
    proposed.mkdir()
    (proposed / "New sibling claim about trams.md").write_text(
        claim_text("New sibling claim about trams"), encoding="utf-8")
    (proposed / f"{TITLE}.md").write_text(
        claim_text(TITLE, body="See [[New sibling claim about trams]].\n"), encoding="utf-8")
    result = run_check(kb, [proposed])
    assert rules(result, "wiki_links") == []


def test_unresolved_depends_on_entry(kb):
    result = review_body(kb, "Body from 2024.\n",
                         depends_on=["Existing claim about buses", "A claim nobody wrote"])
    assert rules(result, "wiki_links") == []  # free text may name evidence, not a note
    result = review_body(kb, "Body from 2024.\n",
                         depends_on=["Existing claim about bsues", "[[A claim nobody wrote]]",
                                     "Agency ridership counts for 2024"])
    assert rules(result, "wiki_links") == [(9, "wiki_links.unresolved-reference")] * 2
    targets = [f.extras["target"] for f in result.findings if f.check == "wiki_links"]
    assert sorted(targets) == ["A claim nobody wrote", "Existing claim about bsues"]


def test_escaped_pipe_of_a_link_inside_a_table_resolves(kb):
    body = "| claim | why |\n|---|---|\n| [[Existing claim about buses\\|buses]] | 2024 |\n"
    assert rules(review_body(kb, body), "wiki_links") == []


def test_heading_and_block_links_must_exist_in_their_note(kb):
    add_claim(kb, "domains/urban-transit/Corridor notes with sections.md",
              "---\ntype: note\n---\n# Corridor notes\n\n## Peak hours\ntext ^peak-1\n\n"
              "### Evening: late buses\nmore\n")
    body = ("Ok: [[Corridor notes with sections#Peak hours]], "
            "[[Corridor notes with sections#peak HOURS]],\n"
            "[[Corridor notes with sections#Peak hours#Evening late buses]], "
            "[[Corridor notes with sections#^peak-1]].\n"
            "Broken: [[Corridor notes with sections#Night hours]] and "
            "[[Corridor notes with sections#^nope]].\n\n## Local part\n\nSee [[#Local part]] "
            "and [[#Missing part]].\n")
    result = review_body(kb, body)
    assert rules(result, "wiki_links") == [(15, "wiki_links.broken-heading"),
                                           (15, "wiki_links.broken-heading"),
                                           (19, "wiki_links.broken-heading")]
    headings = sorted(f.extras["heading"] for f in result.findings if f.check == "wiki_links")
    assert headings == ["Missing part", "Night hours", "^nope"]
