"""Research protocols, the de-identified research export and the HMIS CSV export (issue 16)."""
