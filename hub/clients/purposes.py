"""The purpose of use of each client page and API route, per role: the one place that says it.

A route never takes a purpose from the request (docs/policy.md): it asks `record_purpose` for
the viewer's role, and the policy layer decides and logs under that purpose.

| role | the client record, search and notes are read for |
| --- | --- |
| officer, sergeant | referral: following up their referrals |
| case manager, supervisor | case_management |
| prosecutor | charging_decision: holding or filing charges while the person does intake |
| defender | defense |
| coordinator, privacy officer | oversight (a privacy officer: only during an open break-glass) |
| admin | none: separation of duties, no client pages at all |

Work-group and research reads belong to the work-group and reporting pages, which fix their
own purposes.
"""

from hub.accounts.sessions import Viewer
from hub.vocabulary import Purpose, Role

RECORD_PURPOSE: dict[Role, Purpose] = {
    Role.officer: Purpose.referral,
    Role.sergeant: Purpose.referral,
    Role.case_manager: Purpose.case_management,
    Role.case_manager_supervisor: Purpose.case_management,
    Role.prosecutor: Purpose.charging_decision,
    Role.defender: Purpose.defense,
    Role.coordinator: Purpose.oversight,
    Role.privacy_officer: Purpose.oversight,
}

# Consents are managed for case management only (42 CFR 2.31: the program records them).
CONSENTS_PURPOSE = Purpose.case_management


class NoRecordPurpose(PermissionError):
    """This role reads no client record for any purpose (the web layer answers 403)."""


def record_purpose(viewer: Viewer) -> Purpose:
    """The purpose a client page or API read is made for by this viewer; NoRecordPurpose for a
    role with none (fail closed: a role added to the vocabulary reads nothing until it is named
    here)."""
    purpose = RECORD_PURPOSE.get(viewer.role)
    if purpose is None:
        raise NoRecordPurpose("Your role does not read client records.")
    return purpose
