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
from hub.audit.models import LogEntry, LogRetention, LogTile, TreeHead, WitnessCosignature
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
from hub.mail.models import MailPreference, OutboxMail
from hub.notifications.models import Notification
from hub.priors.models import PriorMatter, Warrant
from hub.privacy.models import ReviewFlag
from hub.referrals.models import CaseloadRequest, IntakeAssessment, Referral, SocialContactEntry
from hub.site import SiteSetting
from hub.workgroup.models import (
    ActionItem,
    AgendaItem,
    DiscussionFlag,
    ItemEntry,
    MeetingInvitee,
    MeetingSeries,
    WorkGroupMeeting,
)

metadata = SQLModel.metadata

__all__ = [
    "AccessRequest",
    "ActionItem",
    "Agency",
    "AgendaItem",
    "ApiToken",
    "BreachSignalReview",
    "BreakGlass",
    "CaseNote",
    "CaseloadRequest",
    "ChargingDecision",
    "ChargingMatter",
    "ClientAssignment",
    "Consent",
    "CourtOrder",
    "CourtOrderDocument",
    "DecisionDisclosure",
    "DecisionFlag",
    "DiscussionFlag",
    "EnrolmentLink",
    "HealthRecord",
    "HousingRecord",
    "IntakeAssessment",
    "ItemEntry",
    "LogEntry",
    "LogRetention",
    "LogTile",
    "MailPreference",
    "MatterDeputy",
    "MeetingInvitee",
    "MeetingSeries",
    "Notification",
    "OutboxMail",
    "Person",
    "PersonAlias",
    "PersonContact",
    "PlanGoal",
    "PolicyRelease",
    "PriorMatter",
    "RecoveryCode",
    "Referral",
    "ReviewFlag",
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
