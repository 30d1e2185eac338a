"""Operational work-group meetings and their agendas."""
