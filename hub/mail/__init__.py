"""E-mail that carries no personal data: an outbox filled in the transaction of the event that
causes a mail, and a sender (`hub mail send`) that delivers it over SMTP with STARTTLS."""
