"""parse: bytes -> Claim. Bad content becomes a finding, never a traceback, never an approval."""

from datetime import date

import pytest
from conftest import add_claim, claim_text, rules, run_check

from reviewer.parse import MAX_YAML_NODES, parse_claim
from reviewer.review import REQUEST_CHANGES

VALID = claim_text("Bus lanes cut trip times on congested arterials").encode()


def billion_laughs(levels: int = 9, width: int = 10) -> bytes:
    lines = ["---", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return ("\n".join([*lines, "---", "# Laughs", ""])).encode()


def many_aliases(count: int = 10_000) -> bytes:
    items = ", ".join(["*x"] * count)
    return f"---\ntype: claim\nx: &x [a, b, c, d, e, f, g, h, i, j]\ny: [{items}]\n---\n".encode()


# name, file content, the (line, rule) pairs parse_claim reports
BAD_INPUTS = [
    ("no-frontmatter", b"# Bus lanes cut trip times\n\nBody.\n", [(1, "schema.no-frontmatter")]),
    ("empty-file", b"", [(1, "schema.no-frontmatter")]),
    ("unclosed", b"---\ntype: claim\ndomain: urban-transit\n\n# Title\n",
     [(1, "schema.unclosed-frontmatter")]),
    ("invalid-yaml", b"---\ntype: claim\ndescription: a: b\nconfidence: likely\n---\n# T\n",
     [(3, "schema.invalid-yaml")]),
    ("unterminated-flow", b"---\ntype: claim\ndomain: [a, b\nconfidence: likely\n---\n# T\n",
     [(4, "schema.invalid-yaml")]),
    ("tab-indent", b"---\ntype: claim\n\tdomain: x\n---\n# T\n", [(3, "schema.invalid-yaml")]),
    ("bad-explicit-tag", b"---\ntype: claim\ncount: !!int many\n---\n# T\n",
     [(2, "schema.invalid-yaml")]),
    ("python-tag", b"---\ntype: !!python/object/apply:os.system [ls]\n---\n",
     [(2, "schema.invalid-yaml")]),
    ("yaml-list", b"---\n- type\n- claim\n---\n# T\n", [(2, "schema.not-a-mapping")]),
    ("yaml-scalar", b"---\njust a sentence\n---\n# T\n", [(2, "schema.not-a-mapping")]),
    ("number-key", b"---\ntype: claim\n2024: a value that lost its field\n---\n# T\n",
     [(3, "schema.invalid-key")]),
    ("null-key", b"---\n~: x\ntype: claim\n---\n# T\n", [(2, "schema.invalid-key")]),
    ("duplicate-key", b"---\nconfidence: likely\ntype: claim\nconfidence: proven\n---\n# T\n",
     [(4, "schema.duplicate-key")]),
    ("non-utf8", VALID.replace(b"field trial", b"caf\xe9 trial"),
     [(13, "schema.invalid-encoding")]),
    ("nul-bytes", b"---\ntype: claim\n---\n# T\n\x00\x01\x02", [(1, "schema.binary-file")]),
    ("utf16", claim_text("Bus lanes cut trip times").encode("utf-16"), [(1, "schema.binary-file")]),
    ("billion-laughs", billion_laughs(), [(2, "schema.unsafe-yaml")]),
    ("ten-thousand-aliases", many_aliases(), [(2, "schema.unsafe-yaml")]),
    ("five-megabytes", VALID + b"More words in a very long body. " * 160_000,
     [(1, "schema.file-too-large")]),
]


def problems(data: bytes, path: str = "domains/x/Bad input.md") -> list[tuple[int, str]]:
    return [(p.line, p.rule) for p in parse_claim(path, data).problems]


@pytest.mark.parametrize(("data", "expected"), [(d, e) for _, d, e in BAD_INPUTS],
                         ids=[name for name, _, _ in BAD_INPUTS])
def test_bad_input_is_a_parse_problem(data, expected):
    assert problems(data) == expected


@pytest.mark.parametrize(("data", "expected"), [(d, e) for _, d, e in BAD_INPUTS],
                         ids=[name for name, _, _ in BAD_INPUTS])
def test_bad_input_requests_changes_without_a_crash(kb, data, expected):
    path = add_claim(kb, "domains/urban-transit/Bad input.md", data)
    result = run_check(kb, [path])
    assert set(expected) <= set(rules(result, "schema"))
    assert result.verdict == REQUEST_CHANGES
    assert not [f for f in result.findings if f.rule.endswith(".internal-error")]


def test_impossible_date_stays_text_for_the_schema_check(kb):
    data = VALID.replace(b"created: 2026-03-01", b"created: 2026-13-45")
    claim = parse_claim("x.md", data)
    assert claim.problems == []
    assert claim.fm["created"] == "2026-13-45"
    result = run_check(kb, [add_claim(kb, "domains/urban-transit/Bad date.md", data)])
    assert (8, "schema.invalid-date") in rules(result, "schema")
    assert result.verdict == REQUEST_CHANGES


def test_valid_dates_load_as_dates():
    claim = parse_claim("x.md", b"---\ncreated: 2026-03-01\n"
                                b"last_evaluated: 2026-03-02 10:00:00\n---\n")
    assert claim.fm["created"] == date(2026, 3, 1)
    assert claim.fm["last_evaluated"].date() == date(2026, 3, 2)


def test_aliases_below_the_limit_load():
    claim = parse_claim("x.md", b"---\nbase: &b [a, b]\nother: *b\n---\n")
    assert claim.problems == []
    assert claim.fm["other"] == ["a", "b"]
    assert MAX_YAML_NODES >= 1000


def test_a_merge_key_is_not_a_duplicate():
    claim = parse_claim("x.md", b"---\nbase: &b {a: 1}\n<<: *b\na: 2\n---\n")
    assert claim.problems == []
    assert claim.fm["a"] == 2


def test_a_number_key_is_dropped_from_the_fields():
    claim = parse_claim("x.md", b"---\ntype: claim\n1: x\n'2': y\n---\n")
    assert claim.fm == {"type": "claim", "2": "y"}


def test_truncating_a_large_file_does_not_split_a_character():
    data = b"---\ntype: claim\n---\n# T\n" + "é".encode() * 1_500_000
    assert problems(data) == [(1, "schema.file-too-large")]
    assert problems(data[:-1] + b"x" + data[-1:]) == [(1, "schema.file-too-large")]


# -- what parsing extracts --------------------------------------------------------------------

def test_key_lines_and_body_line():
    data = (b"---\ntype: claim\ndescription: >\n  folded over\n  two lines\nsource: S\n"
            b"nested:\n  inner: 1\ncreated: 2026-01-01\n---\n\n# Title\n")
    claim = parse_claim("x.md", data)
    assert claim.key_lines == {"type": 2, "description": 3, "source": 6, "nested": 7,
                               "created": 9}
    assert claim.line_of("missing") == 1
    assert claim.body_line == 11
    assert (claim.title, claim.title_line) == ("Title", 12)


def test_frontmatter_may_close_with_dots():
    claim = parse_claim("x.md", b"---\ntype: claim\n...\n# Title\n")
    assert claim.problems == [] and claim.fm == {"type": "claim"}
    assert claim.title_line == 4


def test_empty_frontmatter_is_an_empty_mapping(kb):
    claim = parse_claim("x.md", b"---\n---\n# Title\n")
    assert (claim.problems, claim.frontmatter) == ([], {})
    result = run_check(kb, [add_claim(kb, "domains/urban-transit/Empty.md", "---\n---\n# E\n")])
    assert (1, "schema.missing-field") in rules(result, "schema")


def test_crlf_reads_like_lf():
    lf = parse_claim("x.md", VALID)
    crlf = parse_claim("x.md", VALID.replace(b"\n", b"\r\n"))
    assert crlf.problems == []
    assert (crlf.fm, crlf.key_lines, crlf.title, crlf.title_line) == \
        (lf.fm, lf.key_lines, lf.title, lf.title_line)
    assert [(k.line, k.column, k.target) for k in crlf.links] == \
        [(k.line, k.column, k.target) for k in lf.links]
    assert "\r" not in crlf.body


def test_byte_order_mark_is_ignored():
    claim = parse_claim("x.md", b"\xef\xbb\xbf" + VALID)
    assert claim.problems == []
    assert claim.key_lines["type"] == 2
    assert claim.title == "Bus lanes cut trip times on congested arterials"


@pytest.mark.parametrize(("body", "title", "line"), [
    ("# The H1 title\n\ntext\n", "The H1 title", 5),
    ("Intro.\n\n# Later H1 #\n", "Later H1", 7),
    ("```\n# not a title\n```\n## An H2\n#hashtag\n", "bus lanes cut trip times", None),
    ("text\n", "bus lanes cut trip times", None),
])
def test_title_from_h1_else_from_the_file_name(body, title, line):
    claim = parse_claim("domains/x/bus-lanes_cut-trip-times.md",
                        f"---\ntype: claim\n---\n\n{body}".encode())
    assert (claim.title, claim.title_line) == (title, line)


def test_file_name_with_spaces_is_the_title_as_is():
    claim = parse_claim("domains/x/Fare-free transit raises ridership.md", b"---\n---\n")
    assert claim.title == "Fare-free transit raises ridership"


def test_wiki_link_forms_lines_and_columns():
    body = ("See [[Note A]], [[Note B|shown]] and [[Note C#Section|alias]].\n"
            "Block [[Note D#^block-1]] then ![[diagram.png]] and [[ spaced ]].\n")
    claim = parse_claim("x.md", f"---\ntype: claim\n---\n{body}".encode())
    assert [(k.line, k.column, k.target, k.heading, k.alias, k.embed) for k in claim.links] == [
        (4, 5, "Note A", "", "", False),
        (4, 17, "Note B", "", "shown", False),
        (4, 38, "Note C", "Section", "alias", False),
        (5, 7, "Note D", "^block-1", "", False),
        (5, 32, "diagram.png", "", "", True),  # the column of the "!"
        (5, 53, "spaced", "", "", False),
    ]


def test_links_in_code_and_frontmatter_are_not_body_links():
    body = ("```\n[[fenced]]\n```\n"
            "~~~~\n```\n[[still fenced]]\n~~~~\n"
            "Inline `[[code]]` and ``[[double `tick`]]`` then [[Real one]].\n"
            "    ```python\n")
    claim = parse_claim("x.md", f"---\nsource: '[[Source note]]'\n---\n{body}".encode())
    assert [(k.line, k.column, k.target) for k in claim.links] == [(11, 50, "Real one")]


def test_unclosed_fence_hides_the_rest():
    claim = parse_claim("x.md", b"---\n---\n[[before]]\n```\n[[after]]\n")
    assert [k.target for k in claim.links] == ["before"]


def test_parse_problems_are_reported_even_with_the_schema_check_disabled(kb):
    (kb / ".claim-review.yaml").write_text("checks:\n  schema:\n    enabled: false\n",
                                           encoding="utf-8")
    path = kb / "domains" / "urban-transit" / "Broken note.md"
    path.write_bytes(b"\x00\x01binary")
    result = run_check(kb, [path])
    assert [(f.line, f.rule) for f in result.findings] == [(1, "schema.binary-file")]
    assert result.verdict == "REQUEST_CHANGES"


def test_a_fence_with_an_info_string_does_not_close_an_open_block():
    from reviewer.claim import find_links

    body = "```\n```python\n[[Inside code]]\n```\n[[Outside]]\n"
    assert [link.target for link in find_links(body)] == ["Outside"]
