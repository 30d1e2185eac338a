"""Earlier matters and warrants: a client's prior court matters and warrants, entered by a
prosecutor or imported from the prosecutor's case system, shown in the legal category."""
