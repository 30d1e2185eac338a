"""Persons served by the program and what is known of them, one disclosure category per field."""
