"""HUD HMIS CSV Format Specifications, FY2024 (CSV version 2024, effective 1 October 2023):
the files this hub writes, their columns in the specification's order, and the code lists of
the coded columns it fills, from the specification's file definitions (Export, Organization,
Project, Client, Enrollment, Exit, Services, CurrentLivingSituation) and its Appendix B lists.

Checked on 2026-12-05 against github.com/greenriver/hmis-warehouse at commit
2bb2a18d9449f40e976d21fa8125d46f17f29602: app/models/concerns/hmis_structure/*.rb
(`hmis_configuration`, version '2024': the columns, in order), lib/util/concerns/
hud_lists_2024.rb (the lists) and lib/util/hud_utility_2024.rb (`gender_id_to_field_name`,
`race_id_to_field_name`). The published PDF was not at hand. Every column, its order, and
every list matched but one: 3.06.1 gender is 3 different identity, 5 transgender, 6
questioning, not the 3 transgender, 5 questioning, 6 different identity the hub had (its
labels, hub.vocabulary.HMIS_GENDER_LABELS, were corrected with it).
An earlier check (2026-12-04, with COHHIO/ryha's data-raw/LivingCodes.R) corrected 1.1 (no
2) and 3.917/4.12 (335 and 336; the tenure codes 312, 313, 422, 423, 327, 426 are 3.12 only).
"""

CSV_VERSION = "2024"

EXPORT = (
    "ExportID", "SourceType", "SourceID", "SourceName", "SourceContactFirst",
    "SourceContactLast", "SourceContactPhone", "SourceContactExtension", "SourceContactEmail",
    "ExportDate", "ExportStartDate", "ExportEndDate", "SoftwareName", "SoftwareVersion",
    "CSVVersion", "ExportPeriodType", "ExportDirective", "HashStatus", "ImplementationID",
)  # fmt: skip

ORGANIZATION = (
    "OrganizationID", "OrganizationName", "VictimServiceProvider", "OrganizationCommonName",
    "DateCreated", "DateUpdated", "UserID", "DateDeleted", "ExportID",
)  # fmt: skip

PROJECT = (
    "ProjectID", "OrganizationID", "ProjectName", "ProjectCommonName", "OperatingStartDate",
    "OperatingEndDate", "ContinuumProject", "ProjectType", "HousingType", "RRHSubType",
    "ResidentialAffiliation", "TargetPopulation", "HOPWAMedAssistedLivingFac", "PITCount",
    "DateCreated", "DateUpdated", "UserID", "DateDeleted", "ExportID",
)  # fmt: skip

CLIENT = (
    "PersonalID", "FirstName", "MiddleName", "LastName", "NameSuffix", "NameDataQuality",
    "SSN", "SSNDataQuality", "DOB", "DOBDataQuality",
    "AmIndAKNative", "Asian", "BlackAfAmerican", "HispanicLatinaeo", "MidEastNAfrican",
    "NativeHIPacific", "White", "RaceNone", "AdditionalRaceEthnicity",
    "Woman", "Man", "NonBinary", "CulturallySpecific", "Transgender", "Questioning",
    "DifferentIdentity", "GenderNone", "DifferentIdentityText",
    "VeteranStatus", "YearEnteredService", "YearSeparated", "WorldWarII", "KoreanWar",
    "VietnamWar", "DesertStorm", "AfghanistanOEF", "IraqOIF", "IraqOND", "OtherTheater",
    "MilitaryBranch", "DischargeStatus",
    "DateCreated", "DateUpdated", "UserID", "DateDeleted", "ExportID",
)  # fmt: skip

ENROLLMENT = (
    "EnrollmentID", "PersonalID", "ProjectID", "EntryDate", "HouseholdID", "RelationshipToHoH",
    "EnrollmentCoC", "LivingSituation", "RentalSubsidyType", "LengthOfStay",
    "LOSUnderThreshold", "PreviousStreetESSH", "DateToStreetESSH",
    "TimesHomelessPastThreeYears", "MonthsHomelessPastThreeYears", "DisablingCondition",
    "DateOfEngagement", "MoveInDate", "DateOfPATHStatus", "ClientEnrolledInPATH",
    "ReasonNotEnrolled", "PercentAMI", "ReferralSource", "CountOutreachReferralApproaches",
    "DateOfBCPStatus", "EligibleForRHY", "ReasonNoServices", "RunawayYouth",
    "SexualOrientation", "SexualOrientationOther", "FormerWardChildWelfare",
    "ChildWelfareYears", "ChildWelfareMonths", "FormerWardJuvenileJustice",
    "JuvenileJusticeYears", "JuvenileJusticeMonths", "UnemploymentFam",
    "MentalHealthDisorderFam", "PhysicalDisabilityFam", "AlcoholDrugUseDisorderFam",
    "InsufficientIncome", "IncarceratedParent", "VAMCStation", "TargetScreenReqd",
    "TimeToHousingLoss", "AnnualPercentAMI", "LiteralHomelessHistory", "ClientLeaseholder",
    "HOHLeaseholder", "SubsidyAtRisk", "EvictionHistory", "CriminalRecord",
    "IncarceratedAdult", "PrisonDischarge", "SexOffender", "DisabledHoH", "CurrentPregnant",
    "SingleParent", "DependentUnder6", "HH5Plus", "CoCPrioritized", "HPScreeningScore",
    "ThresholdScore", "TranslationNeeded", "PreferredLanguage", "PreferredLanguageDifferent",
    "DateCreated", "DateUpdated", "UserID", "DateDeleted", "ExportID",
)  # fmt: skip

EXIT = (
    "ExitID", "EnrollmentID", "PersonalID", "ExitDate", "Destination",
    "DestinationSubsidyType", "OtherDestination", "HousingAssessment", "SubsidyInformation",
    "ProjectCompletionStatus", "EarlyExitReason", "ExchangeForSex",
    "ExchangeForSexPastThreeMonths", "CountOfExchangeForSex", "AskedOrForcedToExchangeForSex",
    "AskedOrForcedToExchangeForSexPastThreeMonths", "WorkPlaceViolenceThreats",
    "WorkplacePromiseDifference", "CoercedToContinueWork", "LaborExploitPastThreeMonths",
    "CounselingReceived", "IndividualCounseling", "FamilyCounseling", "GroupCounseling",
    "SessionCountAtExit", "PostExitCounselingPlan", "SessionsInPlan", "DestinationSafeClient",
    "DestinationSafeWorker", "PosAdultConnections", "PosPeerConnections",
    "PosCommunityConnections", "AftercareDate", "AftercareProvided", "EmailSocialMedia",
    "Telephone", "InPersonIndividual", "InPersonGroup", "CMExitReason",
    "DateCreated", "DateUpdated", "UserID", "DateDeleted", "ExportID",
)  # fmt: skip

SERVICES = (
    "ServicesID", "EnrollmentID", "PersonalID", "DateProvided", "RecordType", "TypeProvided",
    "OtherTypeProvided", "MovingOnOtherType", "SubTypeProvided", "FAAmount", "FAStartDate",
    "FAEndDate", "ReferralOutcome", "DateCreated", "DateUpdated", "UserID", "DateDeleted",
    "ExportID",
)  # fmt: skip

CURRENT_LIVING_SITUATION = (
    "CurrentLivingSitID", "EnrollmentID", "PersonalID", "InformationDate",
    "CurrentLivingSituation", "CLSSubsidyType", "VerifiedBy", "LeaveSituation14Days",
    "SubsequentResidence", "ResourcesToObtain", "LeaseOwn60Day", "MovedTwoOrMore",
    "LocationDetails", "DateCreated", "DateUpdated", "UserID", "DateDeleted", "ExportID",
)  # fmt: skip

FILES: dict[str, tuple[str, ...]] = {
    "Export.csv": EXPORT,
    "Organization.csv": ORGANIZATION,
    "Project.csv": PROJECT,
    "Client.csv": CLIENT,
    "Enrollment.csv": ENROLLMENT,
    "Exit.csv": EXIT,
    "Services.csv": SERVICES,
    "CurrentLivingSituation.csv": CURRENT_LIVING_SITUATION,
}

# --- code lists (FY2024 HMIS Data Dictionary) ----------------------------------------------

NO_YES = frozenset({0, 1})  # 1.10
NO_YES_REASONS_MISSING = frozenset({0, 1, 8, 9, 99})  # 1.8
NAME_DATA_QUALITY = frozenset({1, 2, 8, 9, 99})  # 3.01.5
SSN_DATA_QUALITY = frozenset({1, 2, 8, 9, 99})  # 3.02.2
DOB_DATA_QUALITY = frozenset({1, 2, 8, 9, 99})  # 3.03.2
NONE_REASONS = frozenset({8, 9, 99})  # 1.6 RaceNone, GenderNone
SOURCE_TYPE = frozenset({1, 2, 3, 4})  # 1.9 (CoC HMIS, standalone, data warehouse, other)
EXPORT_PERIOD_TYPE = frozenset({1, 3, 4})  # 1.1 (updated, reporting period, other)
EXPORT_DIRECTIVE = frozenset({1, 2, 3})  # 1.2 (delta, full refresh, other)
HASH_STATUS = frozenset({1, 2, 3, 4})  # 1.5 (unhashed, SHA-1, hashed other, SHA-256)
PROJECT_TYPE = frozenset({0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14})  # 2.02.6
RELATIONSHIP_TO_HOH = frozenset({1, 2, 3, 4, 5, 99})  # 3.15.1
PROJECT_COMPLETION = frozenset({1, 2, 3})  # R17.1

# 3.04 RaceAndEthnicity: HUD's codes, which the hub records by -> the Client.csv column.
RACE_COLUMNS: dict[int, str] = {
    1: "AmIndAKNative",
    2: "Asian",
    3: "BlackAfAmerican",
    4: "NativeHIPacific",
    5: "White",
    6: "HispanicLatinaeo",
    7: "MidEastNAfrican",
}
# 3.06.1 Gender: HUD's codes -> the Client.csv column of each.
GENDER_COLUMNS: dict[int, str] = {
    0: "Woman",
    1: "Man",
    2: "CulturallySpecific",
    3: "DifferentIdentity",
    4: "NonBinary",
    5: "Transgender",
    6: "Questioning",
}
HOMELESS = frozenset({116, 101, 118})
INSTITUTIONAL = frozenset({215, 206, 207, 225, 204, 205})
PERMANENT = frozenset({410, 435, 411, 421})
MISSING = frozenset({8, 9, 99})
# 3.917 prior living situation (Enrollment.LivingSituation), FY2024.
PRIOR_LIVING_SITUATION = (
    HOMELESS | INSTITUTIONAL | {302, 329, 314, 332, 335, 336} | PERMANENT | MISSING
)
# 4.12 current living situation: the same, and other, and worker unable to determine.
CURRENT_LIVING_SITUATION_CODES = PRIOR_LIVING_SITUATION | {17, 37}
# 3.12 destination, FY2024: tenure still counts here (312, 313, 422, 423), HOPWA moves (327,
# 426), and deceased, other, no exit interview.
DESTINATION = (
    HOMELESS
    | INSTITUTIONAL
    | {302, 329, 314, 332, 312, 313, 327}
    | {422, 423, 426}
    | PERMANENT
    | {24, 17, 30}
    | MISSING
)
# FY2024 folded the temporary and permanent tenure of staying with family or friends into 335
# and 336 for the living situations: how the hub's recorded codes read on those lists.
_FOLDED = {312: 335, 422: 335, 313: 336, 423: 336}


def prior_living_situation(code: int | None) -> int:
    """A recorded living situation as a 3.917 code; 99 (not collected) off the list."""
    folded = _FOLDED.get(code, code) if code is not None else 99
    return folded if folded in PRIOR_LIVING_SITUATION else 99


def current_living_situation(code: int) -> int:
    """A recorded living situation as a 4.12 code; 99 (not collected) off the list."""
    folded = _FOLDED.get(code, code)
    return folded if folded in CURRENT_LIVING_SITUATION_CODES else 99


# Which code list each coded column of each file must hold (a blank cell is allowed where the
# specification makes the field optional; the tests check every value against these).
CODED: dict[str, dict[str, frozenset[int]]] = {
    "Export.csv": {
        "SourceType": SOURCE_TYPE,
        "ExportPeriodType": EXPORT_PERIOD_TYPE,
        "ExportDirective": EXPORT_DIRECTIVE,
        "HashStatus": HASH_STATUS,
    },
    "Organization.csv": {"VictimServiceProvider": NO_YES},
    "Project.csv": {"ContinuumProject": NO_YES, "ProjectType": PROJECT_TYPE},
    "Client.csv": {
        "NameDataQuality": NAME_DATA_QUALITY,
        "SSNDataQuality": SSN_DATA_QUALITY,
        "DOBDataQuality": DOB_DATA_QUALITY,
        **{column: NO_YES for column in RACE_COLUMNS.values()},
        "RaceNone": NONE_REASONS,
        **{column: NO_YES for column in GENDER_COLUMNS.values()},
        "GenderNone": NONE_REASONS,
        "VeteranStatus": NO_YES_REASONS_MISSING,
    },
    "Enrollment.csv": {
        "RelationshipToHoH": RELATIONSHIP_TO_HOH,
        "LivingSituation": PRIOR_LIVING_SITUATION,
        "DisablingCondition": NO_YES_REASONS_MISSING,
    },
    "Exit.csv": {"Destination": DESTINATION, "ProjectCompletionStatus": PROJECT_COMPLETION},
    "Services.csv": {},
    "CurrentLivingSituation.csv": {"CurrentLivingSituation": CURRENT_LIVING_SITUATION_CODES},
}
