"""Agency systems as OAuth 2 clients (issue 18, item 2): a police records system or a
prosecutor's case system gets a client of its agency, approved by a second person, and
exchanges its credentials for short-lived bearer tokens (client credentials grant)."""
