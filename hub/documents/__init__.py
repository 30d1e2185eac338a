"""Documents attached to a client or a consent: the signed release, an ID (issue 14, item 7)."""
