"""Eligibility: each rule met or not, and the French reason given before submission."""
from datetime import date

import pytest

from backoffice.grants import services
from backoffice.grants.models import GrantStatus, OnePer
from backoffice.grants.services import GrantError
from tests.factories import ProfessionalFactory, SiteFactory
from tests.grants.factories import application, dermatoscope_programme, paid_member, submitted


def _unmet(checks):
    return {c.key: c.detail for c in checks if not c.ok}


def test_paid_member_trained_before_is_eligible(organisation, programme):
    member = paid_member(organisation, first_name="Soazig", last_name="Le Goff")
    checks = services.eligibility(programme, member, site=SiteFactory(), training_on=date(2026, 2, 3),
                                  on=date(2026, 3, 2))
    assert _unmet(checks) == {}
    assert [c.key for c in checks] == ["dates", "membership", "profession", "training", "one_per"]


@pytest.mark.parametrize("case, expected_key, expected_text", [
    ("not_member", "membership", "Aucune adhésion"),
    ("paid_after", "membership", "Adhésion non à jour au 02/03/2026"),
    ("profession", "profession", "réservé aux professions suivantes : Médecin généraliste, Infirmier, Pharmacien"),
    ("no_training", "training", "Indiquez la date à laquelle vous avez suivi Formation au dépistage du mélanome"),
    ("training_later", "training", "La formation doit être suivie avant la demande"),
    ("closed", "dates", "ouvertes jusqu'au 31/12/2026"),
    ("not_open", "dates", "Les demandes ouvrent le 01/01/2026"),
])
def test_unmet_rule_is_explained(organisation, programme, case, expected_key, expected_text):
    on, training_on = date(2026, 3, 2), date(2026, 2, 3)
    if case == "not_member":
        party = ProfessionalFactory(profession="medecin_generaliste")
    elif case == "paid_after":
        party = paid_member(organisation, paid_on=date(2026, 3, 10))
    elif case == "profession":
        party = paid_member(organisation, profession="masseur_kinesitherapeute")
    else:
        party = paid_member(organisation)
    if case == "no_training":
        training_on = None
    if case == "training_later":
        training_on = date(2026, 3, 5)
    if case == "closed":
        on = date(2027, 1, 4)
    if case == "not_open":
        on = date(2025, 12, 20)
    unmet = _unmet(services.eligibility(programme, party, site=SiteFactory(), training_on=training_on, on=on))
    assert expected_key in unmet and expected_text in unmet[expected_key], unmet


def test_one_grant_per_professional(organisation, programme):
    first = submitted(organisation, programme)
    again = application(organisation, programme, applicant=first.applicant)
    with pytest.raises(GrantError, match=r"a déjà une demande dans ce programme \(AIDE-\d{5}, Déposée\)"):
        services.submit(again, on=date(2026, 3, 3))
    assert again.status is GrantStatus.DRAFT


def test_a_rejected_application_frees_the_place(organisation, programme):
    first = submitted(organisation, programme)
    services.reject(first, "Devis illisible")
    again = application(organisation, programme, applicant=first.applicant)
    services.submit(again, on=date(2026, 3, 3))
    assert again.status is GrantStatus.SUBMITTED


def test_one_grant_per_practice(organisation):
    programme = dermatoscope_programme(organisation, one_per=OnePer.PRACTICE)
    practice = SiteFactory(name="Maison de santé de Guérande", commune="Guérande")
    submitted(organisation, programme, site=practice)
    colleague = application(organisation, programme, site=practice)
    with pytest.raises(GrantError, match="Le cabinet Maison de santé de Guérande a déjà une demande"):
        services.submit(colleague, on=date(2026, 3, 3))


def test_no_membership_rule_no_profession_rule(organisation):
    programme = dermatoscope_programme(organisation, requires_membership=False, professions=[], requires_training=False)
    party = ProfessionalFactory(profession="orthophoniste")
    assert _unmet(services.eligibility(programme, party, site=None, on=date(2026, 3, 2))) == {}


def test_submission_refused_lists_every_reason(organisation, programme):
    row = application(organisation, programme, applicant=ProfessionalFactory(profession="dieteticien"),
                      training_on=None)
    with pytest.raises(GrantError) as refused:
        services.submit(row, on=date(2026, 3, 2))
    message = str(refused.value)
    assert message.startswith("Demande non recevable : ")
    assert "Aucune adhésion" in message and "réservé aux professions" in message and "Indiquez la date" in message
    assert row.status is GrantStatus.DRAFT
