"""Review flags: entries of the log (and security events in it) that a privacy officer should
look at, each with its reason (CJIS AU-6: review, analysis and reporting; HIPAA 164.308(a)(1)
information system activity review).

    computing.compute_flags(db, actor, days=7)   # idempotent: what is flagged stays as it is
    review.review_flag(db, viewer, flag_id, note, actor)

A module per job: `thresholds.py` (the site setting), `findings.py` (the log rows the rules read
and what they find), `wording.py` (reads in a privacy officer's words), `read_rules.py` and
`security_rules.py` (the rules), `computing.py` (a run: find and keep), `review.py` and
`listing.py` (the console's side).

Rules (thresholds in the site setting `privacy_flags`, see thresholds.FlagSettings):
- break_glass: every break-glass opened, with the reads made under it;
- outside_relationship: record reads whose every basis is the role alone (no caseload,
  referral, office matter, consent or court order names the reader), per user and day;
- unusual_volume: a user's reads on one day above max(floor, mean + 3 sd) of their own previous
  30 days (days without reads count as 0);
- after_hours: reads outside the site's working hours (default weekdays 07:00-19:00, local);
- denied: reads withheld in full and refused actions (outcome withheld/denied), per user and day;
- sign_in_failures: a burst of failed sign-ins on one account or from one address;
- lockout: every account locked (CJIS AC-7);
- new_address: a sign-in from an address the user had not signed in from in 90 days;
- caseload_change: every caseload request, its approval or refusal, and every move of a client
  from one case manager to another (one flag per request or move);
- court_order_pending: every court order recorded, with its confirmation and copy downloads;
- new_access: an account created, approved, given a new role or enabled again (per request);
- witness_refused: every refusal of a checkpoint by a witness (split view or rollback).

A flag's `key` names the rule and the subject (a user's day, an entry). Recomputing adds the
entries not yet flagged under that key: to the open flag, or, if every flag under the key has
been reviewed, to a new one. Reviewing a flag is logged (privacy:flag:reviewed).
"""
