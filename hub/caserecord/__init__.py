"""Keeping a client's record: the write policy, the history of changes, the sections' forms,
the contact log, program status and the caseload (issue 14)."""
