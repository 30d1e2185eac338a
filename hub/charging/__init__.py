"""Charging matters and the prosecutor's file/decline decisions, bound to their disclosures."""
