"""Diversion Hub: the shared system of a pre-booking diversion program (LEAD and its kin)."""
