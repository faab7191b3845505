"""README.md's environment table lists exactly the variables the code reads, with their defaults."""

import re

import pytest

from tests.environment_reads import NOT_LITERAL, REPO, environment_reads, variables_read

README = (REPO / "README.md").read_text(encoding="utf-8")
TABLE_ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]*)` \|([^|]*)\|([^|]*)\|$")


def environment_table() -> dict[str, tuple[str, str]]:
    """NAME -> (default cell, meaning cell) from the table under "## Environment variables"."""
    section = README.split("\n## Environment variables\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        found = TABLE_ROW.match(line)
        if found:
            name, default, meaning = found.groups()
            assert name not in rows, f"{name} has two rows"
            rows[name] = (default.strip(), meaning.strip())
    return rows


TABLE = environment_table()


def test_every_variable_the_code_reads_has_a_row():
    missing = {read.name: read.where for read in environment_reads() if read.name not in TABLE}
    assert not missing, f"add these to the README's environment table: {missing}"


def test_every_row_is_a_variable_the_code_reads():
    assert not set(TABLE) - variables_read(), "these rows document variables nothing reads any more"


@pytest.mark.parametrize("name", sorted(TABLE))
def test_every_row_says_its_default_and_meaning(name):
    default, meaning = TABLE[name]
    assert default, f"{name}: say the default (or 'none')"
    assert len(meaning) > 10, f"{name}: say what it means"


def rendered(value: object) -> list[str]:
    """How a default written in the code must appear in the README's default cell."""
    if isinstance(value, bool):
        return [str(value).lower()]
    if isinstance(value, int | str):
        return [str(value)] if value != "" else []
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return []


@pytest.mark.parametrize(
    "read",
    [read for read in environment_reads() if read.default not in (None, NOT_LITERAL)],
    ids=lambda read: read.name,
)
def test_documented_defaults_match_the_code(read):
    default_cell = TABLE.get(read.name, ("", ""))[0]
    for text in rendered(read.default):
        assert text in default_cell, (
            f"{read.name} defaults to {read.default!r} at {read.where}; README says {default_cell!r}"
        )


def test_the_two_commands_come_first():
    first_block = re.search(r"^    (make .+)\n^    (make .+)$", README, re.MULTILINE)
    assert first_block and first_block.start() < README.index("## Environment variables")
    assert [line.split()[:2] for line in first_block.groups()] == [["make", "run"], ["make", "test"]]
