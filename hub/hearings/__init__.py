"""Court dates and hearings on charging matters, the calendars and the reminders."""
