"""Imports every domain's tables, so that SQLModel.metadata (and Alembic) sees the whole schema."""

from sqlmodel import SQLModel

from hub.accounts.models import (
    AccessRequest,
    Agency,
    ApiToken,
    EnrolmentLink,
    RecoveryCode,
    SignInAttempt,
    User,
    UserSession,
)
from hub.apiclients.models import ApiClient, ApiClientRequest, ApiClientToken
from hub.arrests.models import ArrestReport
from hub.audit.models import LogEntry, LogRetention, LogTile, TreeHead, WitnessCosignature
from hub.caserecord.models import ContactEntry, RecordChange
from hub.charging.models import (
    BreachSignalReview,
    ChargingDecision,
    ChargingMatter,
    DecisionDisclosure,
    DecisionFlag,
    MatterDeputy,
)
from hub.clients.models import (
    CaseNote,
    ClientAssignment,
    HealthRecord,
    HousingRecord,
    Person,
    PersonAlias,
    PersonContact,
    PlanGoal,
    TreatmentRecord,
)
from hub.consents.models import Consent
from hub.disclosure.models import BreakGlass, CourtOrder, CourtOrderDocument, PolicyRelease
from hub.documents.models import ClientDocument
from hub.equity.models import (
    EligibleArrestCount,
    EligibleArrestImport,
    EquityDataVersion,
    JailBooking,
    JailBookingImport,
)
from hub.hearings.models import CourtHearing, CourtHearingChange
from hub.identity.models import IdentityLink, IdentityProvider, OidcAuthorization, OidcSession
from hub.mail.models import MailPreference, OutboxMail
from hub.notifications.models import Notification
from hub.person_merges.models import PersonMerge
from hub.plans.models import PlanStep
from hub.priors.models import PriorMatter, Warrant
from hub.privacy.models import ReviewFlag
from hub.referrals.models import (
    CaseloadRequest,
    IntakeAssessment,
    Referral,
    ReferralCorrection,
    SocialContactEntry,
)
from hub.research.models import ResearchProtocol
from hub.services_ledger.models import ServiceRecord
from hub.site import SiteSetting
from hub.workgroup.models import (
    ActionItem,
    AgendaItem,
    DiscussionFlag,
    ItemEntry,
    MeetingInvitee,
    MeetingSeries,
    ProposalDismissal,
    WorkGroupMeeting,
)

metadata = SQLModel.metadata

__all__ = [
    "AccessRequest",
    "ActionItem",
    "Agency",
    "AgendaItem",
    "ApiClient",
    "ApiClientRequest",
    "ApiClientToken",
    "ApiToken",
    "ArrestReport",
    "BreachSignalReview",
    "BreakGlass",
    "CaseNote",
    "CaseloadRequest",
    "ChargingDecision",
    "ChargingMatter",
    "ClientAssignment",
    "ClientDocument",
    "Consent",
    "ContactEntry",
    "CourtHearing",
    "CourtHearingChange",
    "CourtOrder",
    "CourtOrderDocument",
    "DecisionDisclosure",
    "DecisionFlag",
    "DiscussionFlag",
    "EligibleArrestCount",
    "EligibleArrestImport",
    "EnrolmentLink",
    "EquityDataVersion",
    "HealthRecord",
    "HousingRecord",
    "IdentityLink",
    "IdentityProvider",
    "IntakeAssessment",
    "ItemEntry",
    "JailBooking",
    "JailBookingImport",
    "LogEntry",
    "LogRetention",
    "LogTile",
    "MailPreference",
    "MatterDeputy",
    "MeetingInvitee",
    "MeetingSeries",
    "Notification",
    "OidcAuthorization",
    "OidcSession",
    "OutboxMail",
    "Person",
    "PersonAlias",
    "PersonContact",
    "PersonMerge",
    "PlanGoal",
    "PlanStep",
    "PolicyRelease",
    "PriorMatter",
    "ProposalDismissal",
    "RecordChange",
    "RecoveryCode",
    "Referral",
    "ReferralCorrection",
    "ResearchProtocol",
    "ReviewFlag",
    "ServiceRecord",
    "SignInAttempt",
    "SiteSetting",
    "SocialContactEntry",
    "TreatmentRecord",
    "TreeHead",
    "User",
    "UserSession",
    "Warrant",
    "WitnessCosignature",
    "WorkGroupMeeting",
    "metadata",
]
