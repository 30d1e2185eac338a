"""Decision tables of the write policy (policies/tests/write/*.csv), checked by `hub policy
test` against the compiled write policy and its hard rules 1-4, without a database.

A row reads:  role, relationship, agency, category, expected
- relationship: none, or one or more of hub.vocabulary.Relationship joined with +
- agency: part2_program (the writer's agency is a 42 CFR Part 2 program) or none
- expected: allowed, refused, or refused:<WriteRefusal>
"""

from dataclasses import dataclass
from pathlib import Path

from hub.caserecord.writing import WriteFacts, WritePolicy, decide_write
from hub.disclosure.tables import Row, read_rows
from hub.vocabulary import Category, Relationship, Role

WRITE_COLUMNS = ["role", "relationship", "agency", "category", "expected"]


@dataclass(frozen=True)
class WriteMismatch:
    row: Row
    got: str


def read_write_rows(paths: list[Path]) -> list[Row]:
    return read_rows(paths, WRITE_COLUMNS)


def write_outcome(row: Row, policy: WritePolicy) -> str:
    """What the write policy decides for one row: "allowed" or "refused:<reason>"."""
    v = row.values
    relationships = {Relationship.everyone} | {
        Relationship(r) for r in v["relationship"].split("+") if r and r != "none"
    }
    if v["agency"] not in ("none", "part2_program"):
        raise ValueError(f"{row.source}: agency is none or part2_program")
    facts = WriteFacts(frozenset(relationships), part2_program=v["agency"] == "part2_program")
    refusal = decide_write(Role(v["role"]), facts, Category(v["category"]), policy)
    return "allowed" if refusal is None else f"refused:{refusal.value}"


def check_write_tables(rows: list[Row], policy: WritePolicy) -> list[WriteMismatch]:
    mismatches = []
    for row in rows:
        got = write_outcome(row, policy)
        want = row.values["expected"]
        if got != want and not (want == "refused" and got.startswith("refused")):
            mismatches.append(WriteMismatch(row=row, got=got))
    return mismatches
