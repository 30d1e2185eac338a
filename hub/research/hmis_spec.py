"""HUD HMIS CSV Format Specifications, FY2024 (CSV version 2024, effective 1 October 2023):
the files this hub writes, their columns in the specification's order, and the code lists of
the coded columns it fills. Written down once here, from the specification's section 2
("Export", "Organization", "Project", "Client", "Enrollment", "Exit", "Services",
"CurrentLivingSituation") and the FY2024 HMIS Data Dictionary's code lists (1.x lists, 3.04,
3.06, 3.12, 3.917). Taken from memory without the published PDF at hand: check every list
against the published specification before the first real submission.
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

NO_YES = frozenset({0, 1})  # 1.7
NO_YES_REASONS_MISSING = frozenset({0, 1, 8, 9, 99})  # 1.8
NAME_DATA_QUALITY = frozenset({1, 2, 8, 9, 99})  # 3.01.5
SSN_DATA_QUALITY = frozenset({1, 2, 8, 9, 99})  # 3.02.2
DOB_DATA_QUALITY = frozenset({1, 2, 8, 9, 99})  # 3.03.2
NONE_REASONS = frozenset({8, 9, 99})  # RaceNone, GenderNone: 1.6 without Yes/No
SOURCE_TYPE = frozenset({1, 2, 3, 4})  # 1.1 (CoC HMIS, standalone, data warehouse, other)
EXPORT_PERIOD_TYPE = frozenset({1, 2, 3, 4})  # 1.2 (updated, effective, reporting, other)
EXPORT_DIRECTIVE = frozenset({1, 2, 3})  # 1.3 (delta, full refresh, other)
HASH_STATUS = frozenset({1, 2, 3, 4})  # 1.5 (unhashed, SHA-1, hashed other, SHA-256)
PROJECT_TYPE = frozenset({0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14})  # 2.02.6
RELATIONSHIP_TO_HOH = frozenset({1, 2, 3, 4, 5, 99})  # 3.15
PROJECT_COMPLETION = frozenset({1, 2, 3})  # R17.1

# 3.04 RaceAndEthnicity: the hub's codes -> the Client.csv column of each.
RACE_COLUMNS: dict[int, str] = {
    1: "AmIndAKNative",
    2: "Asian",
    3: "BlackAfAmerican",
    4: "NativeHIPacific",
    5: "White",
    6: "HispanicLatinaeo",
    7: "MidEastNAfrican",
}
# 3.06 Gender: the hub's codes -> the Client.csv column of each.
GENDER_COLUMNS: dict[int, str] = {
    0: "Woman",
    1: "Man",
    2: "CulturallySpecific",
    3: "Transgender",
    4: "NonBinary",
    5: "Questioning",
    6: "DifferentIdentity",
}

# 3.917 prior / 4.12 current living situation (FY2024): homeless, institutional, temporary and
# permanent situations, and the reasons data is missing.
LIVING_SITUATION = frozenset(
    {116, 101, 118}
    | {215, 206, 207, 225, 204, 205}
    | {302, 329, 314, 332, 312, 313, 327}
    | {422, 423, 426, 410, 435, 421, 411}
    | {8, 9, 99}
)
CURRENT_LIVING_SITUATION_CODES = LIVING_SITUATION | {17, 37}  # other; worker unable to determine
# 3.12 Destination (FY2024): the living situations plus deceased, other, no exit interview.
DESTINATION = LIVING_SITUATION | {24, 17, 30}

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
        "LivingSituation": LIVING_SITUATION,
        "DisablingCondition": NO_YES_REASONS_MISSING,
    },
    "Exit.csv": {"Destination": DESTINATION, "ProjectCompletionStatus": PROJECT_COMPLETION},
    "Services.csv": {},
    "CurrentLivingSituation.csv": {"CurrentLivingSituation": CURRENT_LIVING_SITUATION_CODES},
}
