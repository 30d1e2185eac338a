"""The arrest pages' contexts: the form as typed, the answer, and case management's list of
reports to reconcile with candidates as the policy layer disclosed them."""

from dataclasses import dataclass, field

from hub.arrests.forms import ArrestForm
from hub.arrests.services import ArrestReceived, ArrestToReconcile
from hub.disclosure.record_view import Identity, WithheldCategory
from hub.vocabulary import OffenseLevel
from hub.web.templating import Page


@dataclass
class ArrestFormPage(Page):
    form: ArrestForm = field(default_factory=ArrestForm)
    levels: list[OffenseLevel] = field(default_factory=lambda: list(OffenseLevel))
    problems: list[tuple[str, str]] = field(default_factory=list)
    received: ArrestReceived | None = None


@dataclass
class ReconcileRow:
    report: ArrestToReconcile
    candidates: list[tuple[int, Identity | WithheldCategory]]


@dataclass
class ReconcilePage(Page):
    rows: list[ReconcileRow] = field(default_factory=list)
