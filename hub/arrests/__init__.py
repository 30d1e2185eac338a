"""New arrests of participants, recorded by any police agency or a prosecutor's case system."""
