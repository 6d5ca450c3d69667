"""One application error base (backoffice.errors.ServiceError), the view helper that shows it, and
the helpers that run a view's service call in a savepoint and answer its refusal."""
import logging

import pytest
from flask import get_flashed_messages
from flask_wtf import FlaskForm
from wtforms import StringField

from backoffice.errors import (GENERIC_REFUSAL, REFUSED, DuplicateSubmission, ServiceError, act_or_refuse, attempt,
                               show_refusal)


def _feature_errors():
    from backoffice.accounting.errors import AccountingError
    from backoffice.accounting.exports import ExportError
    from backoffice.accounting.fec import FecError
    from backoffice.auth.services import AccountError, AuthError, LinkError
    from backoffice.documents.errors import DocumentError, PdfConversionError, RenderError, TemplateError
    from backoffice.documents.services import DocumentTemplateError
    from backoffice.member_portal.services import PortalError
    from backoffice.membership.helloasso import HelloAssoError
    from backoffice.membership.services import DuplicateSubmission, MembershipError
    from backoffice.membership.statements import StatementFormatError
    from backoffice.organisations.affiliations import AffiliationError
    from backoffice.organisations.services import LogoError, SettingsError
    from backoffice.people.importer import ImportFileError
    from backoffice.people.services import ImportRejected, PeopleError
    from backoffice.tasks.models import TransitionError
    from backoffice.tasks.services import TaskError, TaskForbidden
    from backoffice.validation import ValidationError
    from jobs import TaskFailed

    return [AccountingError, ExportError, FecError, AccountError, AuthError, LinkError, DocumentError,
            PdfConversionError, RenderError, TemplateError, DocumentTemplateError, PortalError,
            HelloAssoError, DuplicateSubmission, MembershipError, StatementFormatError, AffiliationError,
            LogoError, SettingsError, ImportFileError, ImportRejected, PeopleError, TransitionError,
            TaskError, TaskForbidden, ValidationError, TaskFailed]


@pytest.mark.parametrize("error_class", _feature_errors(), ids=lambda cls: cls.__name__)
def test_every_feature_error_is_a_service_error(error_class):
    assert issubclass(error_class, ServiceError)


def test_a_service_error_carries_its_french_message_and_its_field():
    error = ServiceError("Le SIRET « 123 » ne compte pas 14 chiffres.", field="siret")
    assert (str(error), error.message, error.field) == ("Le SIRET « 123 » ne compte pas 14 chiffres.",
                                                        "Le SIRET « 123 » ne compte pas 14 chiffres.", "siret")
    assert ServiceError("Refusé.").field is None


@pytest.mark.parametrize("make, field", [
    (lambda: __import__("backoffice.organisations.services", fromlist=["x"]).SettingsError(
        "siret", "Le SIRET ne compte pas 14 chiffres."), "siret"),
    (lambda: __import__("backoffice.people.services", fromlist=["x"]).PeopleError(
        "Ce RPPS appartient déjà à Anne LE FLOCH.", field="rpps"), "rpps"),
    (lambda: __import__("backoffice.auth.services", fromlist=["x"]).AccountError(
        "Ce mot de passe est trop court.", "password"), "password"),
], ids=["settings", "people", "account"])
def test_feature_errors_name_their_field(make, field):
    assert make().field == field


class ContactForm(FlaskForm):
    class Meta:
        csrf = False

    email = StringField("Adresse e-mail")
    phone = StringField("Téléphone")


@pytest.fixture
def form(app):
    with app.test_request_context("/", method="POST", data={"email": "élodie@exemple", "phone": "02 99"}):
        yield ContactForm()


def test_the_refusal_goes_under_its_field(form):
    status = show_refusal(ServiceError("Cette adresse est déjà celle d'un autre compte.", field="email"), form)
    assert status == REFUSED == 422
    assert form.email.errors == ["Cette adresse est déjà celle d'un autre compte."]
    assert form.phone.errors == [] or form.phone.errors == ()
    assert get_flashed_messages() == []


def test_after_validation_the_refusal_joins_the_fields_own_errors(form):
    form.validate()
    form.email.errors.append("Adresse incomplète.")
    show_refusal(ServiceError("Domaine inconnu.", field="email"), form)
    assert form.email.errors == ["Adresse incomplète.", "Domaine inconnu."]


@pytest.mark.parametrize("field", [None, "siret"], ids=["no field", "a field the form does not have"])
def test_otherwise_it_is_flashed(form, field):
    assert show_refusal(ServiceError("L'exercice 2025 est clôturé.", field=field), form) == 422
    assert get_flashed_messages(with_categories=True) == [("danger", "L'exercice 2025 est clôturé.")]
    assert form.email.errors in ([], ())


def test_a_default_field_takes_a_refusal_without_its_own(form):
    show_refusal(ServiceError("Ce compte est désactivé."), form, default="email")
    assert form.email.errors == ["Ce compte est désactivé."] and get_flashed_messages() == []


def test_without_a_form_it_is_flashed(app):
    with app.test_request_context("/"):
        show_refusal(ServiceError("Seuls les administrateurs peuvent retirer ce rôle."))
        assert get_flashed_messages() == ["Seuls les administrateurs peuvent retirer ce rôle."]


def test_an_internal_error_never_shows_its_text(form, caplog):
    with caplog.at_level(logging.ERROR, logger="backoffice.errors"):
        show_refusal(KeyError("column 'iban' missing in row 3"), form, default="email")
    assert form.email.errors == [GENERIC_REFUSAL] and "iban" not in GENERIC_REFUSAL
    assert "column 'iban' missing" in caplog.text  # for the logs only


def test_a_job_shows_only_an_application_error_as_is(organisation):
    from backoffice.tasks.models import Task
    from jobs._runner import failure_message

    task = Task(id=41, organisation_id=organisation.id)

    class Internal(Exception):  # a bug inside the application: its text is not for users
        __module__ = "backoffice.people.importer"

    assert failure_message(task, ServiceError("Aucune écriture pour 2026.")) == "Aucune écriture pour 2026."
    message = failure_message(task, Internal("list index out of range"))
    assert "out of range" not in message and "tâche n° 41" in message


# --- attempt / act_or_refuse: the service call in a savepoint ------------------------------------

@pytest.fixture
def posted(app, db, organisation):
    """A POST being handled, the organisation renamed by the view before its service call."""
    with app.test_request_context("/", method="POST", data={"email": "élodie@exemple", "phone": "02 99"}):
        organisation.name = "CPTS du Val Fleuri"
        db.session.flush()
        yield organisation


def _rename_then_refuse(organisation, error):
    """A service call that writes (flushed), then raises ``error``."""
    from backoffice.extensions import db

    def action():
        organisation.name = "CPTS renommée par le service"
        db.session.flush()
        raise error
    return action


def test_done_flashes_the_success_computed_from_the_result(posted):
    def rename():
        posted.name = "CPTS Pays Blanc"
        return posted

    assert attempt(rename, lambda org: f"Organisation renommée : {org.name}.") == (True, posted)
    assert get_flashed_messages(with_categories=True) == [("success", "Organisation renommée : CPTS Pays Blanc.")]


def test_done_without_a_success_message_flashes_nothing(posted):
    assert attempt(lambda: 41 + 1) == (True, 42)
    assert get_flashed_messages() == []


def test_a_refusal_undoes_the_call_only_and_needs_no_refresh(posted):
    refused = _rename_then_refuse(posted, ServiceError("L'exercice 2025 est clôturé."))
    assert attempt(refused, "Enregistré.") == (False, REFUSED)
    assert get_flashed_messages(with_categories=True) == [("danger", "L'exercice 2025 est clôturé.")]
    assert posted.name == "CPTS du Val Fleuri"  # what the view did before is kept; the object was read again


def test_a_refusal_goes_under_its_field_of_the_form(posted):
    form = ContactForm()
    refused = _rename_then_refuse(posted, ServiceError("Cette adresse est déjà celle d'un autre compte.", "email"))
    assert attempt(refused, "Enregistré.", form=form) == (False, REFUSED)
    assert form.email.errors == ["Cette adresse est déjà celle d'un autre compte."] and get_flashed_messages() == []


def test_on_error_shows_the_refusal_instead_and_its_answer_is_returned(posted):
    shown = []

    def show(error):
        shown.append(str(error))
        return "la page de correspondance des colonnes"

    refused = _rename_then_refuse(posted, ServiceError("Indiquez les colonnes de l'export de votre banque."))
    assert attempt(refused, "Importé.", on_error=show) == (False, "la page de correspondance des colonnes")
    assert shown == ["Indiquez les colonnes de l'export de votre banque."] and get_flashed_messages() == []
    assert posted.name == "CPTS du Val Fleuri"


@pytest.mark.parametrize("duplicate, warning", [
    ("Ce remboursement a déjà été enregistré.", "Ce remboursement a déjà été enregistré."),
    (str, "Ce paiement a déjà été enregistré (formulaire envoyé deux fois)."),
], ids=["a message", "a function of the error"])
def test_a_form_already_recorded_counts_as_done_with_its_warning(posted, duplicate, warning):
    from backoffice.membership.services import DuplicateSubmission as PaymentRecordedTwice

    assert issubclass(PaymentRecordedTwice, DuplicateSubmission)
    twice = _rename_then_refuse(posted, PaymentRecordedTwice(None))
    assert attempt(twice, "Paiement enregistré.", duplicate=duplicate) == (True, None)
    assert get_flashed_messages(with_categories=True) == [("warning", warning)]
    assert posted.name == "CPTS du Val Fleuri"  # the twin's savepoint wrote nothing


def test_without_a_duplicate_warning_a_form_recorded_twice_is_a_refusal(posted):
    twice = _rename_then_refuse(posted, DuplicateSubmission("Cet avoir a déjà été reporté."))
    assert attempt(twice, "Avoir reporté.") == (False, REFUSED)
    assert get_flashed_messages(with_categories=True) == [("danger", "Cet avoir a déjà été reporté.")]


def test_anything_but_a_refusal_escapes_as_the_bug_it_is(posted):
    with pytest.raises(KeyError):
        attempt(_rename_then_refuse(posted, KeyError("iban")), "Enregistré.")
    assert posted.name == "CPTS du Val Fleuri"


def test_act_or_refuse_redirects_to_the_target_of_the_result(posted):
    response = act_or_refuse(lambda: posted, "Enregistré.", target=lambda org: f"/organisations/{org.slug}")
    assert (response.status_code, response.location) == (302, "/organisations/cpts-test")


@pytest.mark.parametrize("of_row", [False, True], ids=["render(status)", "render(row, status)"])
def test_act_or_refuse_renders_the_page_again_at_422(posted, of_row):
    pages = []

    def render(*row_and_status):
        *row, status = row_and_status
        pages.append((row, posted.name))  # the page shows the row as it was before the refused call
        return "la page de l'organisation", status

    refused = _rename_then_refuse(posted, ServiceError("Le SIRET ne compte pas 14 chiffres.", "siret"))
    row = {"row": posted} if of_row else {}
    assert act_or_refuse(refused, "Enregistré.", render=render, target="/ailleurs", **row) == \
        ("la page de l'organisation", 422)
    assert pages == [([posted] if of_row else [], "CPTS du Val Fleuri")]


def test_act_or_refuse_without_a_page_redirects_after_the_refusal_too(posted):
    refused = _rename_then_refuse(posted, ServiceError("La séance n'est pas ouverte."))
    response = act_or_refuse(refused, "Séance close.", target="/assemblies/7")
    assert (response.status_code, response.location) == (302, "/assemblies/7")
    assert get_flashed_messages(with_categories=True) == [("danger", "La séance n'est pas ouverte.")]
    assert posted.name == "CPTS du Val Fleuri"  # the boundary commits: the savepoint kept nothing of the call
