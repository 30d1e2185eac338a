"""Decision tables (policies/tests/*.csv): human-readable rows checked by `hub policy test`
against the compiled policy and the hard rules, without a database.

A row reads:  role, relationship, consent, purpose, category, expected
- relationship: none, or one or more of hub.vocabulary.Relationship joined with +
- consent: none, or one or more of: general (a general consent naming the viewer's agency),
  general_kind (naming their kind of agency), part2 (a Part 2 consent naming their agency),
  cjr (a 42 CFR 2.35 consent naming their agency), court_order (an order for their agency),
  break_glass (an open break-glass), participation_on (the site setting); each covers the
  row's category and purpose
- category: a Category, or participation, or part2:<Category> for data of that category that a
  Part 2 program recorded (42 CFR 2.11: decided as treatment; its consents and court order
  cover that category and treatment)
- expected: disclosed, withheld, or withheld:<reason>
"""

import csv
from dataclasses import dataclass
from pathlib import Path

from hub.accounts.sessions import Viewer
from hub.disclosure.policy import (
    PARTICIPATION,
    CompiledPolicy,
    ConsentFact,
    CourtOrderFact,
    Facts,
    decide,
)
from hub.vocabulary import (
    ROLES_BY_AGENCY_KIND,
    AgencyKind,
    Category,
    ConsentKind,
    Purpose,
    Relationship,
    Role,
)

COLUMNS = ["role", "relationship", "consent", "purpose", "category", "expected"]
_AGENCY = 1


@dataclass(frozen=True)
class Row:
    source: str  # file:line
    values: dict[str, str]


@dataclass(frozen=True)
class Mismatch:
    row: Row
    got: str


def read_rows(paths: list[Path], columns: list[str] = COLUMNS) -> list[Row]:
    """The rows of the tables, each with its file:line; `columns`: the header they must have
    (the write policy's tables have their own, hub.caserecord.tables)."""
    rows = []
    for path in paths:
        lines = path.read_text().splitlines()
        body = [(n, line) for n, line in enumerate(lines, 1) if not line.lstrip().startswith("#")]
        reader = csv.DictReader(line for _, line in body)
        if [c.strip() for c in reader.fieldnames or []] != columns:
            raise ValueError(f"{path}: the header must be {','.join(columns)}")
        for (number, _), record in zip(body[1:], reader, strict=True):
            values = {k.strip(): (v or "").strip() for k, v in record.items()}
            rows.append(Row(source=f"{path.name}:{number}", values=values))
    return rows


def _agency_kind(role: Role) -> AgencyKind:
    return next(kind for kind, roles in ROLES_BY_AGENCY_KIND.items() if role in roles)


def _facts(row: Row, category: str, purpose: Purpose) -> Facts:
    v = row.values
    relationships = {Relationship.everyone} | {
        Relationship(r) for r in v["relationship"].split("+") if r and r != "none"
    }
    conditions = {c for c in v["consent"].split("+") if c and c != "none"}
    categories = frozenset(Category(c) for c in _origin_categories(category) if c != PARTICIPATION)
    purposes = frozenset({purpose})
    consents = []
    for n, name in enumerate(sorted(conditions & {"general", "general_kind", "part2", "cjr"}), 1):
        kind = {
            "general": ConsentKind.general,
            "general_kind": ConsentKind.general,
            "part2": ConsentKind.part2,
            "cjr": ConsentKind.criminal_justice_referral,
        }[name]
        consents.append(
            ConsentFact(
                id=n,
                kind=kind,
                categories=categories,
                purposes=purposes,
                recipient_agency_id=None if name == "general_kind" else _AGENCY,
                recipient_agency_kind=_agency_kind(Role(v["role"])),
            )
        )
    unknown = conditions - {
        "general",
        "general_kind",
        "part2",
        "cjr",
        "court_order",
        "break_glass",
        "participation_on",
    }
    if unknown:
        raise ValueError(f"{row.source}: unknown consent {', '.join(sorted(unknown))}")
    return Facts(
        person_id=1,
        relationships=frozenset(relationships),
        consents=tuple(consents),
        court_orders=(
            (CourtOrderFact(id=1, categories=categories, purposes=purposes),)
            if "court_order" in conditions
            else ()
        ),
        break_glass_id=1 if "break_glass" in conditions else None,
        officer_sees_participation="participation_on" in conditions,
    )


PART2_ORIGIN = "part2:"


def _origin_categories(category: str) -> list[str]:
    if category.startswith(PART2_ORIGIN):
        return [category.removeprefix(PART2_ORIGIN), Category.treatment.value]
    return [category]


def outcome(row: Row, policy: CompiledPolicy) -> str:
    """What the policy decides for one row: "disclosed" or "withheld:<reason>"."""
    v = row.values
    role, purpose, category = Role(v["role"]), Purpose(v["purpose"]), v["category"]
    viewer = Viewer(
        user_id=1,
        role=role,
        agency_id=_AGENCY,
        agency_kind=_agency_kind(role),
        display_name="decision table",
    )
    decision = decide(viewer, _facts(row, category, purpose), purpose, policy)
    if category == PARTICIPATION:
        return "disclosed" if decision.participation else "withheld"
    if category.startswith(PART2_ORIGIN):
        cat = Category(category.removeprefix(PART2_ORIGIN))
        if decision.allows_part2(cat):
            return "disclosed"
        return f"withheld:{decision.part2_reason(cat)}"
    cat = Category(category)
    return "disclosed" if cat in decision.disclosed else f"withheld:{decision.withheld[cat]}"


def check(rows: list[Row], policy: CompiledPolicy) -> list[Mismatch]:
    mismatches = []
    for row in rows:
        got = outcome(row, policy)
        want = row.values["expected"]
        if got != want and not (want == "withheld" and got.startswith("withheld")):
            mismatches.append(Mismatch(row=row, got=got))
    return mismatches
