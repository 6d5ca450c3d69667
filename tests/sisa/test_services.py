"""SISA remuneration services on the database: associates, income and its entries, deductions,
keys, mission points, hours and the simulation (without HTTP)."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from backoffice.accounting.models import JournalEntry
from backoffice.banking import services as banking
from backoffice.extensions import db
from backoffice.sisa import services
from backoffice.sisa.models import SisaAttendance, SisaMeeting
from backoffice.sisa.services import KeyRow, SisaError

D = Decimal


def _lines(entry):
    return sorted((line.account.number, line.debit, line.credit, line.auxiliary.party_id if line.auxiliary else None) for line in entry.lines)


def test_the_associates_of_a_year_with_their_dates(sisa, associates):
    rows = {row.party.display_name: row for row in services.associates(sisa, 2025)}
    assert set(rows) == {"Hélène BROCHARD", "Paul CHEVALIER", "Soizic LE GOFF", "Erwan FOUQUET"}
    assert rows["Soizic LE GOFF"].ends_on == date(2025, 9, 30)
    assert rows["Erwan FOUQUET"].starts_on == date(2025, 6, 16)
    assert rows["Hélène BROCHARD"].site.name == "MSP de Lassay-les-Châteaux"
    assert rows["Hélène BROCHARD"].profession_label == "Médecin généraliste"
    assert "Erwan FOUQUET" not in {row.party.display_name for row in services.associates(sisa, 2024)}
    assert "Soizic LE GOFF" not in {row.party.display_name for row in services.associates(sisa, 2026)}


def test_bank_details_are_checked_with_schwifty_and_kept_by_banking(sisa, associates):
    services.save_associate(sisa, associates.paul, capital_share=D("150.00"),
                            iban="fr76 3000 4000 0312 3456 7890 143", bic="")
    details = banking.payee_details(sisa, associates.paul)
    assert (details.iban, details.bic, details.holder_name) == ("FR7630004000031234567890143", "BNPAFRPP",
                                                               "Paul CHEVALIER")
    assert services.associate_details(sisa, associates.paul).capital_share == D("150.00")
    with pytest.raises(SisaError, match="L'IBAN « FR76 3000 4000 0312 3456 7890 144 » est invalide") as error:
        services.save_associate(sisa, associates.paul, iban="FR76 3000 4000 0312 3456 7890 144")
    assert error.value.field == "iban"
    with pytest.raises(SisaError, match="n'est pas d'une banque du pays de l'IBAN"):
        services.save_associate(sisa, associates.paul, iban="FR7630004000031234567890143", bic="DEUTDEFFXXX")


def test_someone_who_is_not_an_associate_is_refused(sisa, associates):
    from tests.factories import ProfessionalFactory

    stranger = ProfessionalFactory(first_name="Loïc", last_name="D'Arvor")
    with pytest.raises(SisaError, match="Loïc D'ARVOR n'est pas associé"):
        services.save_associate(sisa, stranger, capital_share=None)


def test_income_posts_its_entry_once(sisa, associates):
    advance = services.record_income(sisa, 2025, "advance", "Avance ACI 2025", date(2025, 4, 30), "41 280,00")
    other = services.record_income(sisa, 2025, "other", "Programme ETP diabète", date(2025, 10, 2), D("3500.00"))
    assert advance.amount == D("41280.00")
    assert _lines(advance.entry) == [("512", D("41280.00"), D("0.00"), None), ("7061", D("0.00"), D("41280.00"), None)]
    assert advance.entry.source == f"sisa_income:{advance.id}"
    assert [line.account.number for line in other.entry.lines if line.credit] == ["741"]
    assert services.total_income(sisa, 2025) == D("44780.00")
    with pytest.raises(Exception, match="Le montant reçu doit être supérieur à zéro"):
        services.record_income(sisa, 2025, "balance", "", date(2026, 4, 15), "0")


def test_deductions_by_amount_or_percentage_are_posted_as_what_they_are(sisa, associates):
    services.record_income(sisa, 2025, "advance", "Avance ACI 2025", date(2025, 4, 30), D("40000.00"))
    services.record_income(sisa, 2025, "balance", "Solde ACI 2025", date(2026, 4, 15), D("26666.67"))
    coordinator = services.add_deduction(sisa, 2025, "coordinator", "Coordinatrice (temps partiel)",
                                         percentage="12,5")
    software = services.add_deduction(sisa, 2025, "software", "Logiciel partagé", amount="1 800,00")
    reserve = services.add_deduction(sisa, 2025, "reserve", "Réserve de trésorerie", amount="2000")
    figures = services.year_figures(sisa, 2025)
    assert figures.gross == D("66666.67")
    # 12,5 % of 66 666,67 = 8 333,33375 → 8 333,33
    assert dict((d.id, a) for d, a in figures.deductions) == {coordinator.id: D("8333.33"), software.id: D("1800.00"),
                                                             reserve.id: D("2000.00")}
    assert figures.distributable == D("54533.34")
    posted = services.post_deductions(sisa, 2025, date(2025, 12, 31))
    assert len(posted) == 2  # the reserve is kept result: no entry
    assert _lines(coordinator.entry) == [("408", D("0.00"), D("8333.33"), None), ("6226", D("8333.33"), D("0.00"), None)]
    assert _lines(software.entry)[1][0] == "651"
    assert reserve.entry is None
    assert services.post_deductions(sisa, 2025, date(2025, 12, 31)) == []  # once
    with pytest.raises(SisaError, match="déjà comptabilisée"):
        services.remove_deduction(coordinator)


@pytest.mark.parametrize("amount, percentage, message", [
    ("", "", "soit un montant, soit un pourcentage"),
    ("100", "10", "soit un montant, soit un pourcentage"),
    ("", "100", "entre 0 et moins de 100 %"),
    ("", "dix", "Le pourcentage est invalide : « dix »"),
    ("-5", "", "doit être positif"),
])
def test_bad_deductions_are_refused(sisa, amount, percentage, message):
    with pytest.raises(Exception, match=message):
        services.add_deduction(sisa, 2025, "accountant", "Cabinet comptable", amount=amount, percentage=percentage)


def test_keys_must_add_up_to_100_and_name_their_professions(sisa):
    scenario = services.create_scenario(sisa, 2025, "Règlement intérieur")
    with pytest.raises(SisaError, match="totalisent 90 % au lieu de 100 %"):
        services.set_keys(scenario, [KeyRow("Part égale", "30", "equal"), KeyRow("Temps", "60", "hours")])
    with pytest.raises(SisaError, match="profession inconnue dans « Sorcier = 2 »"):
        services.set_keys(scenario, [KeyRow("Part égale", "100", "equal", weights="Sorcier = 2")])
    services.set_keys(scenario, [KeyRow("Part égale", "30", "equal", True),
                                 KeyRow("Temps de coordination", "50", "hours"),
                                 KeyRow("Missions", "20", "points", weights="Médecin généraliste = 1,5"),
                                 KeyRow("", "", "equal")])
    assert [(k.position, k.label, k.percentage, k.basis, k.prorate_presence) for k in scenario.keys] == [
        (1, "Part égale", D("30.00"), "equal", True), (2, "Temps de coordination", D("50.00"), "hours", False),
        (3, "Missions", D("20.00"), "points", False)]
    assert scenario.keys[2].profession_weights == {"medecin_generaliste": "1.5"}
    copy = services.create_scenario(sisa, 2025, "Variante", copy_from=scenario)
    assert [k.label for k in copy.keys] == ["Part égale", "Temps de coordination", "Missions"]
    with pytest.raises(SisaError, match="existe déjà"):
        services.create_scenario(sisa, 2025, "Variante")


def _meeting(sisa, held_on, minutes, *parties):
    meeting = SisaMeeting(organisation_id=sisa.id, held_on=held_on, duration_minutes=minutes, kind="rcp",
                          theme="Suivi des patients diabétiques")
    meeting.attendances = [SisaAttendance(party_id=p.id) for p in parties]
    db.session.add(meeting)
    db.session.flush()
    return meeting


def test_the_simulation_reads_hours_points_and_presence(sisa, associates):
    a = associates
    services.record_income(sisa, 2025, "advance", "Avance ACI 2025", date(2025, 4, 30), D("10000.00"))
    services.add_deduction(sisa, 2025, "accountant", "Cabinet comptable", amount="1000")
    _meeting(sisa, date(2025, 3, 4), 120, a.helene, a.paul, a.soizic)
    _meeting(sisa, date(2025, 9, 9), 90, a.helene, a.erwan)
    _meeting(sisa, date(2024, 12, 10), 600, a.paul)  # another year
    services.add_mission_points(sisa, 2025, a.paul, "Référent protocole AVK", "3")
    services.add_mission_points(sisa, 2025, a.paul, "Astreinte", "1,5")
    services.add_mission_points(sisa, 2025, a.soizic, "Protocole plaies chroniques", "1.5")
    scenario = services.create_scenario(sisa, 2025, "Règlement intérieur")
    services.set_keys(scenario, [KeyRow("Part égale", "30", "equal", True), KeyRow("Temps", "50", "hours"),
                                 KeyRow("Missions", "20", "points")])
    inputs = services.inputs_for(sisa, 2025, scenario)
    assert inputs.distributable == D("9000.00")
    by_id = {x.party_id: x for x in inputs.associates}
    assert (by_id[a.helene.id].hours, by_id[a.paul.id].hours, by_id[a.erwan.id].hours) == (D("3.50"), D("2.00"),
                                                                                          D("1.50"))
    assert by_id[a.paul.id].points == D("4.5")
    result = services.simulate(sisa, 2025, scenario)
    assert result.total == D("9000.00")
    shares = result.by_party()
    # Missions 1 800,00 : Paul 4,5 / Soizic 1,5 → 1 350,00 / 450,00
    assert shares[a.paul.id].by_key[3] == D("1350.00") and shares[a.soizic.id].by_key[3] == D("450.00")
    # Time 4 500,00 over 9 hours: Hélène 3,5 → 1 750,00
    assert shares[a.helene.id].by_key[2] == D("1750.00")
    # Equal 2 700,00 prorated by days 365, 365, 273, 199 (sum 1 202), in cents: 81 988,35 ×2,
    # 61 322,80 and 44 700,50: the two cents left go to the largest remainders (Soizic, Erwan).
    assert [shares[p.id].by_key[1] for p in (a.helene, a.paul, a.soizic, a.erwan)] == [
        D("819.88"), D("819.88"), D("613.23"), D("447.01")]


def test_a_simulation_that_cannot_be_computed_says_why(sisa, associates):
    scenario = services.create_scenario(sisa, 2025, "Règlement intérieur")
    services.set_keys(scenario, [KeyRow("Part égale", "100", "equal")])
    with pytest.raises(SisaError, match="Le montant à répartir doit être positif"):
        services.simulate(sisa, 2025, scenario)
    services.record_income(sisa, 2025, "advance", "Avance ACI 2025", date(2025, 4, 30), D("1000.00"))
    services.set_keys(scenario, [KeyRow("Temps", "100", "hours")])
    with pytest.raises(SisaError, match="aucune heure de coordination n'est enregistrée en 2025"):
        services.simulate(sisa, 2025, scenario)
    assert db.session.scalars(select(JournalEntry).where(JournalEntry.organisation_id == sisa.id)).all()


def test_simulation_queries_do_not_grow_with_the_associates(sisa, associates, count_queries):
    from backoffice.organisations.affiliations import Role, affiliate
    from tests.factories import ProfessionalFactory

    services.record_income(sisa, 2025, "advance", "Avance ACI 2025", date(2025, 4, 30), D("1000.00"))
    scenario = services.create_scenario(sisa, 2025, "Règlement intérieur")
    services.set_keys(scenario, [KeyRow("Part égale", "100", "equal")])

    def count():
        db.session.expire_all()
        with count_queries() as counter:
            services.simulate(sisa, 2025, db.session.get(type(scenario), scenario.id))
        return counter.count

    few = count()
    for n in range(30):
        affiliate(ProfessionalFactory(), sisa, Role.ASSOCIATE, date(2020, 1, 1))
    db.session.flush()
    assert count() == few


def test_the_aci_balance_received_the_next_spring_is_income_of_the_aci_year(sisa, associates):
    """Cut-off: the balance of the ACI 2025 paid in April 2026 is turnover of 2025 (a receivable
    4687 at 31/12/2025), not of 2026, while 2025 is not closed."""
    from backoffice.accounting import reporting

    services.record_income(sisa, 2025, "advance", "Avance ACI 2025", date(2025, 4, 30), D("40000.00"))
    balance = services.record_income(sisa, 2025, "balance", "Solde ACI 2025", date(2026, 4, 15), D("26666.67"))
    assert balance.entry.entry_date == date(2026, 4, 15)
    assert _lines(balance.entry) == [("4687", D("0.00"), D("26666.67"), None), ("512", D("26666.67"), D("0.00"), None)]

    def income(year):
        rows = reporting.trial_balance(sisa, date(year, 1, 1), date(year, 12, 31)).by_account()
        return {number: row.balance for number, row in rows.items() if number[0] in "47"}

    assert income(2025) == {"4687": D("26666.67"), "7061": D("-66666.67")}
    assert income(2026) == {"4687": D("-26666.67")}
