"""Two records of one person merged after the duplicate check (issue 14, item 8)."""
