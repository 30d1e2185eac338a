"""The client-set plan: goals in the client's own words, their steps (issue 14, item 4)."""
