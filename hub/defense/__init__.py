"""The defender's side: my clients, with their matters, decisions, court dates and flags."""
