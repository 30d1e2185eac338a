"""Releases of information: general consents, 42 CFR Part 2 consents and 2.35 referrals."""
