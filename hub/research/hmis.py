"""The HMIS CSV export (HUD FY2024 format, hub.research.hmis_spec) of the case-management
agency's consenting clients, for the local Continuum of Care: a zip of Export, Organization,
Project, Client, Enrollment, Exit, Services and CurrentLivingSituation.

The LEAD program is one Services Only project (2.02.6 code 6) of the agency. Each client has
one enrollment, entered at intake (or at referral before intake); an exit where the client
exited the program; a current living situation where the housing record was shared. The hub
holds no SSN, veteran or disabling-condition data: those are "data not collected" (99).
Services.csv is written with its header only: the hub records no HMIS service records yet.
"""

import csv
import hashlib
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from pydantic import BaseModel, Field
from sqlmodel import Session

from hub.accounts.models import Agency
from hub.accounts.sessions import Viewer
from hub.audit.log import Actor
from hub.db import utcnow
from hub.disclosure.hmis import HmisSource, disclose_for_hmis
from hub.disclosure.notice import REDISCLOSURE_NOTICE
from hub.disclosure.research import Prepared
from hub.permissions import allowed
from hub.research import hmis_spec as spec
from hub.research.services import ResearchError
from hub.vocabulary import Action, ProgramStatus

NOT_COLLECTED = 99
PROJECT_SERVICES_ONLY = 6
SOURCE_STANDALONE = 2  # 1.9: a standalone/agency-specific application, not the CoC's HMIS
PERIOD_REPORTING = 3  # 1.1
DIRECTIVE_FULL_REFRESH = 2  # 1.2
UNHASHED = 1  # 1.5
NAME_FULL = 1  # 3.01.5: full name reported
DOB_FULL = 1  # 3.03.2: full DOB reported
SELF = 1  # 3.15: self (head of household)


class HmisRequest(BaseModel):
    recipient_agency_id: int = Field(ge=1, le=2**31 - 1)


@dataclass(frozen=True)
class HmisFile:
    filename: str
    content: bytes  # the zip
    sha256: str
    clients: int


def _day(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def _moment(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _flags(codes: Sequence[int] | None, columns: dict[int, str]) -> dict[str, str]:
    """The yes/no columns of a multi-select element, and its 'None' column (8/9/99)."""
    chosen = set(codes or ())
    row = {column: str(int(code in chosen)) for code, column in columns.items()}
    reasons = sorted(chosen & spec.NONE_REASONS)
    missing = "" if chosen & columns.keys() else str(reasons[0] if reasons else NOT_COLLECTED)
    return {**row, "None": missing}


def client_row(source: HmisSource, common: dict[str, str]) -> dict[str, str]:
    race = _flags(source.race_ethnicity, spec.RACE_COLUMNS)
    gender = _flags(source.gender, spec.GENDER_COLUMNS)
    return {
        "PersonalID": str(source.person_id),
        "FirstName": source.first_name,
        "LastName": source.last_name,
        "NameDataQuality": str(NAME_FULL),
        "SSNDataQuality": str(NOT_COLLECTED),
        "DOB": _day(source.date_of_birth),
        "DOBDataQuality": str(DOB_FULL if source.date_of_birth else NOT_COLLECTED),
        **{k: v for k, v in race.items() if k != "None"},
        "RaceNone": race["None"],
        "AdditionalRaceEthnicity": source.additional_race_ethnicity or "",
        **{k: v for k, v in gender.items() if k != "None"},
        "GenderNone": gender["None"],
        "VeteranStatus": str(NOT_COLLECTED),
        **common,
    }


def hmis_tables(
    sources: Sequence[HmisSource], agency: Agency, viewer: Viewer, now: datetime
) -> dict[str, list[dict[str, str]]]:
    """The rows of every file, by file name; each row holds only spec columns."""
    export_id = now.strftime("%Y%m%d%H%M%S")
    stamp = _moment(now)
    common = {
        "DateCreated": stamp,
        "DateUpdated": stamp,
        "UserID": str(viewer.user_id),
        "ExportID": export_id,
    }
    start = min((s.referred_on for s in sources), default=now.date())
    project_id = str(agency.id)
    tables: dict[str, list[dict[str, str]]] = {name: [] for name in spec.FILES}
    tables["Export.csv"].append(
        {
            "ExportID": export_id,
            "SourceType": str(SOURCE_STANDALONE),
            "SourceID": str(agency.id),
            "SourceName": agency.name,
            "ExportDate": stamp,
            "ExportStartDate": start.isoformat(),
            "ExportEndDate": now.date().isoformat(),
            "SoftwareName": "Diversion Hub",
            "SoftwareVersion": "0.1.0",
            "CSVVersion": spec.CSV_VERSION,
            "ExportPeriodType": str(PERIOD_REPORTING),
            "ExportDirective": str(DIRECTIVE_FULL_REFRESH),
            "HashStatus": str(UNHASHED),
            "ImplementationID": "diversion-hub",
        }
    )
    tables["Organization.csv"].append(
        {
            "OrganizationID": str(agency.id),
            "OrganizationName": agency.name,
            "VictimServiceProvider": "0",
            **common,
        }
    )
    tables["Project.csv"].append(
        {
            "ProjectID": project_id,
            "OrganizationID": str(agency.id),
            "ProjectName": "LEAD case management",
            "OperatingStartDate": start.isoformat(),
            "ContinuumProject": "0",
            "ProjectType": str(PROJECT_SERVICES_ONLY),
            **common,
        }
    )
    for source in sources:
        pid = str(source.person_id)
        enrollment = {"EnrollmentID": pid, "PersonalID": pid}
        tables["Client.csv"].append(client_row(source, common))
        tables["Enrollment.csv"].append(
            {
                **enrollment,
                "ProjectID": project_id,
                "EntryDate": _day(source.intake_on or source.referred_on),
                "HouseholdID": f"H{pid}",
                "RelationshipToHoH": str(SELF),
                "LivingSituation": str(spec.prior_living_situation(source.living_situation)),
                "DisablingCondition": str(NOT_COLLECTED),
                **common,
            }
        )
        if source.program_status == ProgramStatus.exited and source.status_changed_on:
            tables["Exit.csv"].append(
                {
                    "ExitID": pid,
                    **enrollment,
                    "ExitDate": _day(source.status_changed_on),
                    "Destination": str(NOT_COLLECTED),
                    **common,
                }
            )
        if source.living_situation is not None:
            tables["CurrentLivingSituation.csv"].append(
                {
                    "CurrentLivingSitID": pid,
                    **enrollment,
                    "InformationDate": _day(source.living_situation_on),
                    "CurrentLivingSituation": str(
                        spec.current_living_situation(source.living_situation)
                    ),
                    **common,
                }
            )
    return tables


def _csv(columns: Sequence[str], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), restval="", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)  # a key outside the spec raises: nothing else can be written
    return out.getvalue()


def make_hmis_export(db: Session, viewer: Viewer, request: HmisRequest, actor: Actor) -> HmisFile:
    """The HMIS CSV zip of the viewer's agency's clients who consented to the recipient;
    each included client's disclosure is logged. Raises ResearchError, showing nothing."""
    if not allowed(viewer.role, Action.hmis_export):
        raise ResearchError(["Your role cannot make an HMIS export."])
    agency = db.get(Agency, viewer.agency_id)
    recipient = db.get(Agency, request.recipient_agency_id)
    db.rollback()
    if agency is None or recipient is None or recipient.id == agency.id:
        raise ResearchError(["Choose the Continuum of Care's agency as the recipient."])
    now = utcnow()

    def prepare(sources: list[HmisSource]) -> Prepared[HmisFile]:
        if not sources:
            raise ResearchError(["No client has an active consent naming this recipient."])
        tables = hmis_tables(sources, agency, viewer, now)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, columns in spec.FILES.items():
                info = zipfile.ZipInfo(name, date_time=now.timetuple()[:6])
                archive.writestr(info, _csv(columns, tables[name]))
            if any(s.part2 for s in sources):
                # 42 CFR 2.32: the notice travels with every disclosure of Part 2 data.
                info = zipfile.ZipInfo("NOTICE-42-CFR-PART-2.txt", date_time=now.timetuple()[:6])
                archive.writestr(info, REDISCLOSURE_NOTICE + "\n")
        content = buffer.getvalue()
        digest = hashlib.sha256(content).hexdigest()
        result = HmisFile(f"hmis-{now:%Y%m%d}.zip", content, digest, len(sources))
        detail = {"sha256": digest, "clients": len(sources), "csv_version": spec.CSV_VERSION}
        return Prepared(result, [s.person_id for s in sources], detail)

    return disclose_for_hmis(db, viewer, request.recipient_agency_id, actor, prepare)
