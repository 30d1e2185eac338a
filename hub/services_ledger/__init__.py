"""Services given or bought, and the bridge-funding ledger (issue 14, item 6)."""
