"""Programmes, amounts, approvals within the ceiling and the envelope, cancellations, the budget."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from backoffice.extensions import db
from backoffice.grants import services
from backoffice.grants.models import GrantProgramme, GrantStatus
from backoffice.grants.services import GrantError
from backoffice.lifecycle import history
from tests.grants.factories import application, dermatoscope_programme, submitted


def test_programme_with_funders(organisation, programme):
    assert [(f.name, f.amount) for f in programme.funders] == [
        ("ARS Pays de la Loire — FIR", Decimal("5000.00")), ("CPAM de Loire-Atlantique", Decimal("1000.00"))]
    assert services.ceiling_text(programme) == "600,00\u00a0€ ou 80 % du devis (le plus bas des deux)"


@pytest.mark.parametrize("values, field, message", [
    ({"name": " "}, "name", "Donnez un nom"),
    ({"envelope": Decimal("0")}, "envelope", "L'enveloppe du programme doit être un montant positif"),
    ({"closes_on": date(2025, 6, 1)}, "closes_on", "La date de clôture précède"),
    ({"ceiling_rate": Decimal("120")}, "ceiling_rate", "entre 0 et 100"),
    ({"professions": ["sorcier"]}, "professions", "Profession inconnue"),
    ({"training_label": ""}, "training_label", "Nommez la formation"),
])
def test_programme_refusals(organisation, values, field, message):
    with pytest.raises(GrantError, match=message) as refused:
        dermatoscope_programme(organisation, **values)
    assert refused.value.field == field


@pytest.mark.parametrize("quote, rate, amount, expected", [
    ("750.00", "80", "600.00", "600.00"),     # 80 % of 750 = 600 = ceiling
    ("500.00", "80", "600.00", "400.00"),     # 80 % of the quote is lower
    ("1200.00", "80", "600.00", "600.00"),    # the ceiling is lower
    ("333.33", "80", None, "266.66"),         # rounded down to the cent, never above 80 %
    ("900.00", None, "600.00", "600.00"),
])
def test_ceiling(organisation, quote, rate, amount, expected):
    programme = dermatoscope_programme(organisation, ceiling_rate=rate and Decimal(rate),
                                       ceiling_amount=amount and Decimal(amount))
    assert services.ceiling_for(programme, Decimal(quote)) == Decimal(expected)


@pytest.mark.parametrize("quote, requested, message", [
    ("750,00", "800,00", "Le montant demandé dépasse le devis"),
    ("500,00", "450,00", r"dépasse le plafond de l'aide \(400,00\xa0€ pour ce devis\)"),
])
def test_requested_amount_refusals(organisation, programme, quote, requested, message):
    with pytest.raises(GrantError, match=message):
        application(organisation, programme, quote=quote, requested=requested)


def test_approve_records_who_and_amount(organisation, programme, login_as):
    board = login_as("board")
    row = submitted(organisation, programme)
    services.approve(row, Decimal("550.00"), by=board, on=date(2026, 4, 7))
    assert row.status is GrantStatus.APPROVED and row.amount_granted == Decimal("550.00")
    assert row.decided_on == date(2026, 4, 7)
    assert history(row)[-1].changed_by_id == board.id
    assert programme.granted_total == Decimal("550.00")


@pytest.mark.parametrize("amount, message", [
    ("650.00", "dépasse le montant demandé"),
])
def test_approve_above_requested(organisation, programme, amount, message):
    row = submitted(organisation, programme)
    with pytest.raises(GrantError, match=message):
        services.approve(row, Decimal(amount))


def test_approve_above_ceiling(organisation):
    programme = dermatoscope_programme(organisation)
    row = submitted(organisation, programme)
    db.session.execute(update(GrantProgramme).where(GrantProgramme.id == programme.id).values(ceiling_amount=500))
    with pytest.raises(GrantError, match=r"plafond de l'aide \(500,00\xa0€"):
        services.approve(row)
    assert row.status is GrantStatus.SUBMITTED


def test_approve_above_envelope_is_refused_and_says_what_remains(organisation):
    programme = dermatoscope_programme(organisation, envelope=Decimal("1000.00"))
    first, second = submitted(organisation, programme), submitted(organisation, programme)
    services.approve(first)
    with db.session.begin_nested(), pytest.raises(GrantError, match=r"Enveloppe dépassée : il reste 400,00\xa0€ sur 1\u202f000,00\xa0€"):
        services.approve(second)
    assert second.status is GrantStatus.SUBMITTED and programme.granted_total == Decimal("600.00")
    services.approve(second, Decimal("400.00"))
    assert services.budget(programme).remaining == Decimal("0.00")


def test_approving_twice_is_refused(organisation, programme):
    row = submitted(organisation, programme)
    services.approve(row)
    with pytest.raises(GrantError, match="de « Accordée » à « Accordée »"):
        services.approve(row)
    assert programme.granted_total == Decimal("600.00")


def test_database_refuses_a_total_above_the_envelope(organisation, programme):
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(update(GrantProgramme).where(GrantProgramme.id == programme.id)
                           .values(granted_total=Decimal("6000.01")))


def test_envelope_cannot_shrink_below_granted(organisation, programme):
    services.approve(submitted(organisation, programme))
    with pytest.raises(GrantError, match="inférieure aux aides déjà accordées"):
        services.update_programme(programme, envelope=Decimal("500.00"))


def test_cancel_gives_the_amount_back(organisation, programme):
    row = submitted(organisation, programme)
    services.approve(row)
    services.cancel(row, "Le cabinet ferme")
    assert row.status is GrantStatus.CANCELLED and programme.granted_total == Decimal("0.00")
    assert history(row)[-1].reason == "Le cabinet ferme"


def test_budget_agrees_with_running_total_and_shares_per_funder(organisation, programme):
    rows = [submitted(organisation, programme) for _ in range(3)]
    services.approve(rows[0])
    services.approve(rows[1], Decimal("333.33"))
    services.reject(rows[2], "Hors territoire")
    figures = services.budget(programme)
    assert figures.granted == programme.granted_total == Decimal("933.33")
    assert figures.committed == Decimal("933.33") and figures.paid == Decimal("0.00")
    assert figures.remaining == Decimal("5066.67")
    assert [(f.name, env, committed) for f, env, committed, _ in figures.by_funder] == [
        ("ARS Pays de la Loire — FIR", Decimal("5000.00"), Decimal("777.78")),
        ("CPAM de Loire-Atlantique", Decimal("1000.00"), Decimal("155.55"))]
    assert figures.counts == {GrantStatus.APPROVED: 2, GrantStatus.REJECTED: 1}


def test_applicant_is_mailed_at_each_step(organisation, programme, outbox):
    row = submitted(organisation, programme)
    services.approve(row)
    db.session.commit()
    subjects = [m.subject for m in outbox(row.applicant.email)]
    assert subjects == ["Votre demande d'aide est déposée — Dermatoscopes 2026",
                        "Votre demande d'aide est accordée — Dermatoscopes 2026"]
