"""Signing in with an agency's own OpenID Connect provider (issue 18, item 1)."""
