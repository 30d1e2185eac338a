"""The de-identified export for an approved study: a zip of data.csv and a README naming the
variables, the protocol, the de-identification and the k-anonymity report.

Refused (nothing read is shown, the refusal logged) without a confirmed protocol in force, for
a variable it does not approve, for treatment data without the 42 CFR 2.52 determination, and
when a combination of quasi-identifiers is shared by fewer than 5 people, unless the request
asks for row suppression: then the rows of those combinations are left out (no cell is
changed), the report says how many, and the file must still reach k = 5.
"""

import csv
import hashlib
import io
import zipfile
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append_and_commit
from hub.db import utcnow
from hub.disclosure.notice import REDISCLOSURE_NOTICE
from hub.disclosure.research import (
    Prepared,
    ProtocolFact,
    ResearchSource,
    disclose_for_research,
)
from hub.permissions import allowed
from hub.research import deidentify as d
from hub.research.models import ResearchProtocol
from hub.research.services import ResearchError, protocol_problems
from hub.research.variables import PSEUDONYM, QUASI_IDENTIFIERS, VARIABLES, categories_of
from hub.settings import get_settings
from hub.vocabulary import Action, LogKind, LogOutcome, SecurityEventTag


class ExportRequest(BaseModel):
    protocol_id: int = Field(ge=1, le=2**31 - 1)
    variables: list[str] = Field(min_length=1, max_length=len(VARIABLES))
    suppress_small_classes: bool = False
    # Recode values of a quasi-identifier held by fewer than 5 people to "other" first.
    generalise_rare_values: bool = False


class ExportRefused(ResearchError):
    """The export was refused; `report` is the k-anonymity report when that was the reason."""

    def __init__(self, problems: list[str], report: d.KAnonymityReport | None = None) -> None:
        super().__init__(problems)
        self.report = report


@dataclass(frozen=True)
class ResearchFile:
    protocol_id: int
    filename: str
    content: bytes  # the zip
    sha256: str
    report: d.KAnonymityReport
    variables: tuple[str, ...]


def cells(source: ResearchSource, variables: tuple[str, ...], key: bytes) -> dict[str, str]:
    """One row of data.csv: the pseudonym and the de-identified value of each variable."""
    values: dict[str, str] = {
        "age_band": d.age_band(source.age_at_referral),
        "race": d.race(source.race_ethnicity or ()),
        "ethnicity": d.ethnicity(source.race_ethnicity or ()),
        "gender": d.gender(source.gender or ()),
        "area": source.precinct or "unspecified",
        "referral_year": str(source.referral_year or ""),
        "referral_kind": source.referral_kind or "",
        "offense_category": source.offense_category or "",
        "eligibility": source.eligibility or "",
        "intake_completed": d.yes_no(source.intake_completed),
        "program_status": source.program_status or "",
        "in_treatment": d.yes_no(source.in_treatment),
        "treatment_start_year": d.year(source.treatment_started_on),
    }
    return {PSEUDONYM: d.pseudonym(key, source.person_id), **{v: values[v] for v in variables}}


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            # A fixed time: the file carries no date of its making beyond the year in README.
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


def _csv(rows: list[dict[str, str]], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def readme(
    protocol: ResearchProtocol, variables: tuple[str, ...], report: d.KAnonymityReport
) -> str:
    lines = [
        f"Research export under protocol {protocol.id}: {protocol.title}",
        f"IRB number: {protocol.irb_number}",
        f"Data-use agreement: {protocol.data_use_agreement}",
        f"Recipient: {protocol.recipient_name}, {protocol.recipient_organisation}",
        f"Approved {protocol.approved_from.isoformat()} to {protocol.expires_on.isoformat()}",
        "",
        "De-identified under HIPAA Safe Harbor, 45 CFR 164.514(b)(2): no names, addresses,",
        "telephone numbers, record numbers or dates other than years; ages over 89 are 90+;",
        "geography no finer than the police precinct. study_pseudonym is a keyed HMAC-SHA256",
        "of the hub's id under a key of this study alone: it links rows within this study's",
        "files only, and cannot be reversed or matched with another study's.",
        "",
        "Variables (data.csv columns):",
        f"- {PSEUDONYM}: the person's pseudonym in this study.",
        *(f"- {v}: {VARIABLES[v].description}" for v in variables),
        "",
        f"k-anonymity on {', '.join(report.quasi_identifiers) or '(no quasi-identifier)'}:",
        f"k = {report.k} (required {report.k_required}); {report.rows} rows in "
        f"{report.classes} combinations; {report.suppressed_rows} rows suppressed "
        "(their combination was shared by fewer than the required number); "
        f"{report.generalised_cells} cells generalised to 'other' (a value held by fewer "
        "than the required number in the whole file).",
    ]
    if categories_of(variables) & {VARIABLES["in_treatment"].category}:
        lines += ["", "42 CFR 2.52: disclosed for research under the program director's",
                  "determination.", "", REDISCLOSURE_NOTICE]  # fmt: skip
    return "\n".join(lines) + "\n"


def _refused(db: Session, actor: Actor, protocol_id: int, exc: ExportRefused) -> None:
    detail: dict[str, Any] = {"protocol_id": protocol_id, "problems": exc.problems}
    if exc.report is not None:
        detail["k_anonymity"] = asdict(exc.report)
    event = Event(
        kind=LogKind.security,
        tag=SecurityEventTag.research_export_refused,
        outcome=LogOutcome.denied,
        purpose="research",
        detail=detail,
    )
    append_and_commit(db, actor, event)


def make_research_export(
    db: Session, viewer: Viewer, request: ExportRequest, actor: Actor, today: date | None = None
) -> ResearchFile:
    """Reads through the policy layer, de-identifies, checks k-anonymity and builds the zip;
    each included client gets a disclosure entry (purpose research). Raises ExportRefused,
    logged as a security event, and shows nothing."""
    if not allowed(viewer.role, Action.research_export):
        raise ResearchError(["Your role cannot make a research export."])
    today = today or utcnow().date()
    variables = tuple(v for v in VARIABLES if v in request.variables)
    protocol = db.get(ResearchProtocol, request.protocol_id)
    problems = protocol_problems(protocol, list(request.variables), today)
    db.rollback()
    if problems or protocol is None:
        refused = ExportRefused(problems)
        _refused(db, actor, request.protocol_id, refused)
        raise refused
    secret = get_settings().secret_key
    assert secret is not None  # the hub does not start without it
    key = d.study_key(secret.get_secret_value(), request.protocol_id)
    fact = ProtocolFact(
        id=request.protocol_id,
        categories=categories_of(variables),
        part2_conditions_met=protocol.part2_conditions_met,
    )
    qis = tuple(q for q in QUASI_IDENTIFIERS if q in variables)

    def prepare(sources: list[ResearchSource]) -> Prepared[ResearchFile]:
        # Rows in pseudonym order: the file's order says nothing of the hub's ids.
        pairs = sorted(((cells(s, variables, key), s.person_id) for s in sources),
                       key=lambda pair: pair[0][PSEUDONYM])  # fmt: skip
        rows = [row for row, _ in pairs]
        generalised = 0
        if request.generalise_rare_values:
            rows, generalised = d.generalise_rare_values(rows, qis, d.K_MINIMUM)
            pairs = [(row, pid) for row, (_, pid) in zip(rows, pairs, strict=True)]
        report = d.k_anonymity(rows, qis, generalised_cells=generalised)
        if not report.passes and request.suppress_small_classes:
            keep = d.suppress_small_classes(rows, qis, d.K_MINIMUM)
            pairs = [pairs[i] for i in keep]
            rows = [row for row, _ in pairs]
            suppressed = len(sources) - len(rows)
            report = d.k_anonymity(rows, qis, d.K_MINIMUM, suppressed, generalised)
        if not report.passes:
            raise ExportRefused(
                [f"k-anonymity: k = {report.k}, below {report.k_required}."], report
            )
        content = _zip(
            {
                "data.csv": _csv(rows, [PSEUDONYM, *variables]),
                "README.txt": readme(protocol, variables, report),
            }
        )
        digest = hashlib.sha256(content).hexdigest()
        result = ResearchFile(
            protocol_id=request.protocol_id,
            filename=f"research-protocol-{request.protocol_id}.zip",
            content=content,
            sha256=digest,
            report=report,
            variables=variables,
        )
        detail = {
            "sha256": digest,
            "rows": report.rows,
            "k": report.k,
            "variables": list(variables),
        }
        return Prepared(result, [pid for _, pid in pairs], detail)

    try:
        return disclose_for_research(db, viewer, fact, actor, prepare)
    except ExportRefused as refused:
        _refused(db, actor, request.protocol_id, refused)
        raise
