"""`hub agencies oidc ...`: the server's operator sets an agency's OpenID provider.

Logged like the program office's changes (admin:identity_provider:changed), with the operator
as actor. The client secret is never an option: the command names the environment variable
that must hold it."""

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlmodel import Session, col, select

from hub.accounts.administration import OPERATOR
from hub.accounts.cli import operator_actor
from hub.accounts.models import Agency
from hub.accounts.rules import AccountError
from hub.db import get_session, ident
from hub.identity.config import (
    ProviderSettings,
    configure_provider,
    domains_of,
    provider_of,
    remove_provider,
    secret_variable,
)

oidc_app = typer.Typer(
    help="Sign an agency's staff in through its own OpenID provider.", no_args_is_help=True
)


@contextmanager
def _agency(name: str) -> Iterator[tuple[Session, Agency]]:
    for db in get_session():
        agency = db.exec(select(Agency).where(col(Agency.name) == name)).first()
        if agency is None:
            typer.echo(f"error: there is no agency named {name!r} (see `hub agencies list`)")
            raise typer.Exit(1)
        yield db, agency


@oidc_app.command("set")
def set_provider(
    agency: str = typer.Argument(..., help="The agency's name, exactly."),
    name: str = typer.Option(..., help="The provider's name on the button, e.g. 'Salish ID'."),
    issuer: str = typer.Option(..., help="The provider's issuer (https://...)."),
    client_id: str = typer.Option(..., help="The client id the provider gave the hub."),
    domain: list[str] = typer.Option(..., help="An e-mail domain of the agency (repeat)."),
    trust_mfa: bool = typer.Option(
        False, "--trust-mfa/--no-trust-mfa", help="Count the provider's MFA (amr/acr)."
    ),
    trusted_acr: str = typer.Option("", help="An acr value that counts as MFA, if any."),
) -> None:
    """Set (or replace) an agency's OpenID provider."""
    with _agency(agency) as (db, found):
        settings = ProviderSettings(
            name=name,
            issuer=issuer,
            client_id=client_id,
            allowed_domains=domain,
            trust_mfa=trust_mfa,
            trusted_acr=trusted_acr or None,
        )
        try:
            provider = configure_provider(db, operator_actor(), OPERATOR, ident(found.id), settings)
        except AccountError as refused:
            typer.echo(f"error: {refused}", err=True)
            raise typer.Exit(1) from refused
        typer.echo(
            f"{found.name} signs in through {provider.name} ({provider.issuer}). "
            f"Put the client secret in {provider.secret_variable} in the hub's environment."
        )


@oidc_app.command("show")
def show_provider(agency: str = typer.Argument(..., help="The agency's name, exactly.")) -> None:
    """Show an agency's OpenID provider (never its secret)."""
    with _agency(agency) as (db, found):
        provider = provider_of(db, ident(found.id))
        if provider is None:
            typer.echo(
                f"{found.name} has no OpenID provider; set one with `hub agencies oidc set`."
            )
            typer.echo(f"Its client secret would go in {secret_variable(found)}.")
            return
        typer.echo(f"name\t{provider.name}")
        typer.echo(f"issuer\t{provider.issuer}")
        typer.echo(f"client_id\t{provider.client_id}")
        typer.echo(f"domains\t{', '.join(domains_of(provider))}")
        typer.echo(f"trust_mfa\t{provider.trust_mfa}")
        typer.echo(f"trusted_acr\t{provider.trusted_acr or ''}")
        typer.echo(f"secret_variable\t{provider.secret_variable}")


@oidc_app.command("remove")
def remove(agency: str = typer.Argument(..., help="The agency's name, exactly.")) -> None:
    """Stop signing an agency's staff in through its provider (passwords stay)."""
    with _agency(agency) as (db, found):
        try:
            remove_provider(db, operator_actor(), OPERATOR, ident(found.id))
        except AccountError as refused:
            typer.echo(f"error: {refused}", err=True)
            raise typer.Exit(1) from refused
        typer.echo(f"{found.name} no longer signs in through an OpenID provider.")
