"""The one policy layer: who sees which categories of a client record, for which purpose, why."""
