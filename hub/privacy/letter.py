"""The accounting of disclosures as a letter a privacy officer can hand to the client (issue 17,
item 7): the same Accounting, said in plain words. Codes become words here and nowhere else;
the table version (accounting.html) keeps them for the file."""

from dataclasses import dataclass
from datetime import tzinfo
from zoneinfo import ZoneInfo

from hub.accounts.names import Names
from hub.privacy.accounting import Accounting, AccountingLine
from hub.vocabulary import Category, Purpose

CATEGORY_WORDS: dict[str, str] = {
    Category.identity: "your name and date of birth",
    Category.demographics: "your race, ethnicity and gender",
    Category.contact: "how to reach you",
    Category.referral: "how you were referred to the program",
    Category.legal: "your charges and court dates",
    Category.engagement: "whether you take part in the program",
    Category.plan: "your plan and the services you use",
    Category.housing: "your housing",
    Category.health: "your health",
    Category.treatment: "your substance-use treatment",
}
PURPOSE_WORDS: dict[str, str] = {
    Purpose.case_management: "to work with you as your case manager",
    Purpose.referral: "to follow up the referral they made",
    Purpose.work_group: "to coordinate your support at the program's work group meeting",
    Purpose.charging_decision: "to decide whether to file or hold charges",
    Purpose.defense: "to defend you",
    Purpose.oversight: "to oversee how your information is used",
    Purpose.research: "for approved research, without your name",
}
# The legal basis of a disclosure, by the prefix the policy layer writes.
BASIS_WORDS: tuple[tuple[str, str], ...] = (
    ("consent:", "with your written consent"),
    ("court_order:", "under a court order"),
    ("break_glass:", "in an emergency review by a privacy officer"),
    ("relationship:", "because they work on your case"),
)


def _basis(bases: tuple[str, ...]) -> str:
    said = [words for prefix, words in BASIS_WORDS if any(b.startswith(prefix) for b in bases)]
    return " and ".join(said) or "because their job in the program allows it"


@dataclass(frozen=True)
class LetterLine:
    """One disclosure (or the same one repeated) in a sentence's parts."""

    first: str  # YYYY-MM-DD
    last: str | None  # when repeated
    count: int
    who: str
    what: str
    why: str
    basis: str


def letter_lines(line_items: list[AccountingLine], names: Names, zone: tzinfo) -> list[LetterLine]:
    """The accounting's lines in plain words, oldest first, dated on the site's calendar (the
    one its period is stated in)."""
    out = []
    for line in sorted(line_items, key=lambda item: item.first):
        person = names.user(line.recipient_user_id) if line.recipient_user_id else "someone"
        agency = names.agency(line.recipient_agency_id) if line.recipient_agency_id else ""
        role = (line.recipient_role or "").replace("_", " ")
        who = person + (f", {role}" if role else "") + (f" at {agency}" if agency else "")
        what = [CATEGORY_WORDS.get(c, c.replace("_", " ")) for c in line.categories]
        out.append(
            LetterLine(
                first=line.first.astimezone(zone).date().isoformat(),
                last=line.last.astimezone(zone).date().isoformat() if line.count > 1 else None,
                count=line.count,
                who=who,
                what=", ".join(what[:-1]) + f" and {what[-1]}" if len(what) > 1 else "".join(what),
                why=PURPOSE_WORDS.get(line.purpose or "", "for the program's work"),
                basis=_basis(line.bases),
            )
        )
    return out


@dataclass(frozen=True)
class LetterSection:
    heading: str
    since: str
    until: str
    lines: list[LetterLine]


def letter_sections(accounting: Accounting, names: Names) -> list[LetterSection]:
    """Each rule's section of the accounting, as the letter tells it."""
    headings = (
        "Everyone who saw information about you",
        "Of these, what was shared with your consent from your substance-use treatment records",
    )
    return [
        LetterSection(
            heading=headings[min(index, 1)],
            since=section.since.isoformat(),
            until=section.until.isoformat(),
            lines=letter_lines(section.lines, names, ZoneInfo(accounting.zone)),
        )
        for index, section in enumerate(accounting.sections)
    ]
