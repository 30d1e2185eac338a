"""The web layer: thin routes, templates and the security wrapping around every response."""
