"""Referrals into the program: arrest, social contact and community referrals, and intake."""
