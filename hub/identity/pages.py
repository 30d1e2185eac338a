"""What the provider sign-in pages show."""

from dataclasses import dataclass

from hub.web.templating import Page


@dataclass
class ContinuePage(Page):
    """A page that moves the browser on by itself (meta refresh). After the provider's
    callback: a redirect chain that began at the provider's site would not carry the
    SameSite=Strict session cookie. After sign-out: the CSP's form-action 'self' would block
    a redirect of the form's POST to the provider's logout endpoint."""

    next_url: str = "/"
