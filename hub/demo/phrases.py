"""The words of the demo program: places, offenses, goals, notes. All fictional.

Goals are written in the client's own words and follow harm reduction (LEAD: the client sets
the goals; no abstinence mandates, no sanctions).
"""

from hub.vocabulary import Category

PRECINCTS = ("North", "East", "South", "West", "Southwest")

# (offense code, offense category, level). The level decides where an arrest report goes:
# misdemeanors to the city attorney, felonies to the county prosecutor.
OFFENSES: tuple[tuple[str, str, str], ...] = (
    ("VUCSA-possession", "drug", "misdemeanor"),
    ("VUCSA-possession", "drug", "misdemeanor"),
    ("drug-public-use", "drug", "misdemeanor"),
    ("VUCSA-delivery", "drug", "felony"),
    ("VUCSA-possession-with-intent", "drug", "felony"),
    ("prostitution", "prostitution", "misdemeanor"),
    ("loitering-for-prostitution", "prostitution", "misdemeanor"),
)

EXCLUSION_OVERRIDES = (
    "Sergeant approved: delivery of a small amount to support the person's own use.",
    "Sergeant approved: no sign of exploitation of others; person asked for help.",
)

PRIOR_INVOLVEMENT = (
    "Two prior arrests for drug possession in the last year (North precinct).",
    "Known to patrol from repeated contacts at the transit center; documented use.",
    "Prior documented prostitution contacts on the south corridor.",
    "Officer has seen the person using in the park by the library several times.",
    "Previously booked for drug possession; charges dismissed.",
    "Outreach team and officer have documented contacts at the encampment since spring.",
)

COMMUNITY_REFERRAL_NOTES = (
    "Business owners' association asked for outreach; person agreed to meet a case manager.",
    "Neighbor referral through the precinct community meeting.",
    "Shelter staff asked the officer to connect the person with the program.",
)

GOALS: tuple[tuple[str, str], ...] = (
    ("I want my ID back so I can apply for things.", "ID voucher; licensing office visit"),
    ("Get inside before winter. Somewhere I can keep my dog.", "Coordinated entry; pet-friendly"),
    ("Talk to my mom again.", "Phone minutes; help writing a letter"),
    ("Use less, and never use alone.", "Naloxone kit; test strips; never-use-alone line"),
    ("Get my teeth fixed.", "Dental clinic referral"),
    ("Get back on SSI.", "Benefits advocate appointment"),
    ("Keep a phone that works so people can reach me.", "Lifeline phone program"),
    ("Find some work, even a few hours a week.", "Day labor center; work boots"),
    ("See my kids on weekends.", "Family court navigator"),
    ("Deal with my old warrants so I stop worrying.", "Public defender consultation"),
    ("Try buprenorphine again, at my own pace.", "Low-barrier clinic walk-in hours"),
    ("Get my birth certificate from out of state.", "Vital records request; fee paid"),
    ("Sleep somewhere I don't have to watch my stuff all night.", "Shelter bed; storage locker"),
    ("Stop getting sick from bad shots.", "Wound care; syringe services"),
)

GOAL_STATUSES = ("open", "open", "open", "met", "set_aside")

STAYING_AT = (
    "Harbor Light shelter, weeknights (fictional)",
    "Tent near the North precinct greenbelt",
    "Car, usually parked by the food bank",
    "Sister's couch, East precinct",
    "Tiny-house village, unit 12 (fictional)",
    "Motel on the south corridor, paid weekly",
    "Friend's apartment, moves around",
)

# HUD HMIS 3.917 current living situation codes (FY2024), weighted toward the program's people.
LIVING_SITUATIONS: tuple[tuple[int, int], ...] = (
    (116, 40),  # place not meant for habitation
    (101, 20),  # emergency shelter
    (118, 3),  # safe haven
    (302, 6),  # transitional housing
    (314, 6),  # hotel or motel paid without a voucher
    (312, 6),  # staying with family, temporary
    (313, 6),  # staying with friends, temporary
    (205, 3),  # substance-use treatment facility or detox
    (207, 2),  # jail, prison or juvenile detention
    (435, 5),  # rental by client, with ongoing subsidy
    (410, 2),  # rental by client, no ongoing subsidy
    (8, 1),  # client doesn't know
)

WAITLISTS = (
    "Salish County Coordinated Entry (fictional)",
    "Cascadia Housing Authority voucher list (fictional)",
    "Harbor House permanent supportive housing (fictional)",
    "Cedar Commons recovery housing (fictional)",
)

MENTAL_HEALTH = (
    "Reports anxiety and poor sleep; connected with community mental health (fictional clinic).",
    "History of depression; sees a counselor at the drop-in center when they can.",
    "Reports PTSD symptoms; prefers peer support to a clinic for now.",
    "No concerns the client wants recorded.",
)

PHYSICAL_HEALTH = (
    "Wound care for a leg abscess at the mobile clinic; healing.",
    "Hepatitis C; wants to start treatment once housed.",
    "Dental pain; clinic appointment booked.",
    "Diabetes; needs a place to keep insulin cold.",
    "Foot problems from walking; new shoes from the clothing bank.",
)

TREATMENT_PROGRAMS = (
    "Cascadia Opioid Treatment Program (fictional)",
    "Salish Recovery Center, outpatient (fictional)",
    "Bridge buprenorphine clinic (fictional)",
    "Evergreen low-barrier buprenorphine walk-in (fictional)",
)

TREATMENT_NOTES = (
    "Started buprenorphine; attending twice a week.",
    "Methadone dose stable; takes the bus to dosing.",
    "Intake assessment done; on the waiting list for outpatient.",
    "Stopped attending after moving shelters; open to restarting.",
    "Completed detox; chose outpatient follow-up.",
)

# Case notes by category: short, plausible, fictional.
CASE_NOTES: dict[Category, tuple[str, ...]] = {
    Category.identity: (
        "Client prefers their middle name; updated the record.",
        "Confirmed date of birth from a copy of the birth certificate.",
        "Client uses a street name at the shelter; noted as an alias.",
    ),
    Category.demographics: (
        "Client updated their gender on the intake form.",
        "Client described their race and ethnicity in their own words; recorded as given.",
        "Client asked to leave the ethnicity question unanswered; respected.",
    ),
    Category.contact: (
        "New phone number after the old one was stolen; updated contact details.",
        "Best reached in the mornings at the shelter desk.",
        "Client moved camps; shared where outreach can find them.",
    ),
    Category.referral: (
        "Went over the referral with the client; they remember the officer and agreed to meet.",
        "Client asked what the referral means for their charges; explained the program.",
        "Referral received; first outreach attempt at the drop-in center.",
    ),
    Category.legal: (
        "Client has a court date next month; shared the defender's number.",
        "Helped client call the public defender about an old warrant.",
        "Client worried about a fine from last year; will ask the defender.",
    ),
    Category.engagement: (
        "Met at the drop-in center; client came on time and stayed an hour.",
        "No contact this week; left a message with the shelter desk.",
        "Client checked in by phone; doing okay.",
        "Walked with client to the benefits office; waited together.",
    ),
    Category.plan: (
        "Client set a new goal: get a state ID before winter.",
        "Reviewed goals; client reconnected with their sister.",
        "Client set aside the work goal for now; housing comes first for them.",
    ),
    Category.housing: (
        "Completed the coordinated entry assessment; client is on the list.",
        "Client moved into a tiny-house village unit.",
        "Shelter bed lost after a missed curfew; looking for another.",
    ),
    Category.health: (
        "Went with client to the mobile clinic for wound care.",
        "Client reports poor sleep; offered a mental health referral, client will think about it.",
        "Picked up a prescription together; client has a week's supply.",
    ),
    Category.treatment: (
        "Client started buprenorphine at the clinic; wants to keep going.",
        "Client missed two dosing days; talked about bus fare, no sanction.",
        "Client asked about methadone; shared clinic hours.",
    ),
}

RIGHT_TO_REVOKE = (
    "I may revoke this consent at any time, in writing or by telling my case manager, except "
    "for disclosures already made in reliance on it. The program office (fictional) records "
    "the revocation the same day."
)
RIGHT_TO_REVOKE_2_35 = (
    "I understand that this consent cannot be revoked until the final disposition of the "
    "charges, as 42 CFR 2.35 allows; after that I may revoke it in writing or by telling my "
    "case manager."
)

# The life area of each goal in GOALS (PlanDomain values), in the same order.
GOAL_DOMAINS: tuple[str, ...] = (
    "legal",
    "housing",
    "relationships",
    "substance_use",
    "health",
    "income",
    "relationships",
    "income",
    "relationships",
    "legal",
    "substance_use",
    "legal",
    "housing",
    "health",
)

# Why a client's program status changed, as a case manager writes it: facts, never sanctions.
STATUS_REASONS: dict[str, tuple[str, ...]] = {
    "active": (
        "Meets with me most weeks and set a first goal.",
        "Came to the office twice this month; working on ID.",
    ),
    "not_engaged": (
        "Not found at the usual spots for several weeks; outreach continues.",
        "Said they want a break from meetings for now; door stays open.",
    ),
    "exited": (
        "Moved out of the county to be near family.",
        "Goals met; housed and connected to services.",
        "Chose to leave the program; may come back any time.",
    ),
    "re_engaged": (
        "Came back to the office asking for help with housing.",
        "Found at the shelter; wants to pick up where we left off.",
    ),
}

# Who gives or sells each kind of service (fictional providers).
SERVICE_PROVIDERS: dict[str, str] = {
    "motel_stay": "South Corridor Motel (fictional)",
    "rent_assistance": "Cascadia Rental Aid (fictional)",
    "transport": "Salish Transit (fictional)",
    "phone": "Lifeline phone program (fictional)",
    "id_documents": "State licensing office (fictional)",
    "food": "Harbor Food Bank (fictional)",
    "storage": "Safe Storage Lockers (fictional)",
    "legal_help": "Salish Legal Clinic (fictional)",
    "medical_visit": "Harbor Community Clinic (fictional)",
    "mental_health_counseling": "Cascadia Community Mental Health (fictional)",
    "substance_use_treatment": "Evergreen outpatient group (fictional)",
    "medication_for_opioid_use": "Low-barrier buprenorphine clinic (fictional)",
}
