"""The tamper-evident log of disclosures and security events."""
