"""Agencies, users, sign-in with a second factor, sessions and API tokens."""
