"""The privacy officer's console: the log searched and read, review flags, and the accounting
of disclosures (HIPAA 164.528, 42 CFR 2.24/2.25). See docs/privacy-console.md."""
