"""A log entry as an HL7 FHIR R4 AuditEvent resource (hl7.org/fhir/R4/auditevent.html), for
exchange with systems that read audit trails in FHIR."""

from typing import Any

from hub.audit.log import timestamp
from hub.audit.models import LogEntry
from hub.vocabulary import PART2_CATEGORIES, PROTECTED_HEALTH_CATEGORIES, LogKind, Purpose

DCM = "http://dicom.nema.org/resources/ontology/DCM"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
HUB = "urn:diversion-hub"

# Purposes of use as HL7 v3 PurposeOfUse codes; the hub's own code travels alongside.
PURPOSE_OF_USE = {
    Purpose.case_management: "CAREMGT",
    Purpose.referral: "CAREMGT",
    Purpose.work_group: "CAREMGT",
    Purpose.charging_decision: "HLEGAL",
    Purpose.defense: "HLEGAL",
    Purpose.oversight: "HOPERAT",
    Purpose.research: "HRESCH",
}


def security_labels(categories: list[str]) -> list[dict[str, str]]:
    """Confidentiality R for health and treatment data (N otherwise); ETH and the 42 CFR Part 2
    policy for substance-use treatment data, whose label travels with it (42 CFR 2.32)."""
    held = set(categories)
    protected = any(c in held for c in PROTECTED_HEALTH_CATEGORIES)
    labels = [{"system": CONFIDENTIALITY, "code": "R" if protected else "N"}]
    if any(c in held for c in PART2_CATEGORIES):
        labels.append({"system": ACT_CODE, "code": "ETH"})
        labels.append({"system": ACT_CODE, "code": "42CFRPart2"})
    return labels


def _type(entry: LogEntry) -> dict[str, str]:
    if entry.kind == LogKind.disclosure:
        return {"system": DCM, "code": "110110", "display": "Patient Record"}
    if entry.tag.startswith("account:sign_in") or entry.tag.startswith("account:session"):
        return {"system": DCM, "code": "110114", "display": "User Authentication"}
    return {"system": DCM, "code": "110113", "display": "Security Alert"}


def audit_event(entry: LogEntry) -> dict[str, Any]:
    """The FHIR R4 AuditEvent for one entry (its personal part included: who and about whom)."""
    labels = security_labels(list(entry.categories or []))
    agent: dict[str, Any] = {"requestor": True}
    if entry.actor_role:
        agent["role"] = [{"coding": [{"system": f"{HUB}:role", "code": entry.actor_role}]}]
    if entry.actor_user_id is not None:
        agent["who"] = {"reference": f"Practitioner/{entry.actor_user_id}"}
    elif entry.actor_agency_id is not None:
        agent["who"] = {"reference": f"Organization/{entry.actor_agency_id}"}
    if entry.address:
        agent["network"] = {"address": entry.address, "type": "2"}  # 2: IP address
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(entry.seq),
        "meta": {"security": labels},
        "type": _type(entry),
        "subtype": [{"system": f"{HUB}:event", "code": entry.tag}],
        "action": "R",
        "recorded": timestamp(entry.recorded_at),
        # 0 success; 4 minor failure (a field withheld or an access refused is the policy
        # working, not a fault)
        "outcome": "0" if entry.outcome in ("disclosed", "success") else "4",
        "outcomeDesc": entry.outcome,
        "agent": [agent],
        "source": {"observer": {"display": "Diversion Hub"}},
    }
    if entry.purpose:
        coding = [{"system": f"{HUB}:purpose", "code": entry.purpose}]
        if entry.purpose in PURPOSE_OF_USE:
            coding.insert(0, {"system": ACT_REASON, "code": PURPOSE_OF_USE[Purpose(entry.purpose)]})
        event["purposeOfEvent"] = [{"coding": coding}]
        agent["purposeOfUse"] = [{"coding": coding}]
    if entry.person_id is not None:
        event["entity"] = [
            {
                "what": {"reference": f"Patient/{entry.person_id}"},
                "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
                "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
                "securityLabel": labels,
                "detail": [{"type": "categories", "valueString": ",".join(entry.categories or [])}],
            }
        ]
    return event
