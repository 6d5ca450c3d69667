"""The expected ACI: a points grid per contract year, the indicators reached, the remuneration,
advance and balance it gives, compared with what was received; worked examples by hand."""
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice.sisa import aci, services
from backoffice.sisa.aci import IndicatorInput, IndicatorRow
from backoffice.sisa.services import SisaError

D = Decimal
GRID = [IndicatorInput(1, "Accès aux soins : horaires et soins non programmés", D(800), D(0)),
        IndicatorInput(2, "Fonction de coordination", D(1700), D(1100)),
        IndicatorInput(3, "Protocoles pluriprofessionnels", D(0), D(700), D(50))]


def test_worked_example_without_rounding():
    # 800 + (1700 + 1100 × 3000/4000) + 700 × 3000/4000 × 50 % = 800 + 2525 + 262,5 = 3587,5 points × 7 €
    result = aci.expected(2025, GRID, patients=3000)
    assert [r.amount for r in result.indicators] == [D("5600.00"), D("17675.00"), D("1837.50")]
    assert result.points == D("3587.50") and result.total == D("25112.50")
    assert (result.advance, result.balance) == (D("15067.50"), D("10045.00"))


def test_worked_example_with_cents_to_share():
    # 3001 patients: 3587,8625 points × 7 = 25 115,0375 → 25 115,04; indicators 5 600 / 17 676,925 /
    # 1 838,1125: the cent left goes to the largest remainder (17 676,925 → 17 676,93).
    result = aci.expected(2025, GRID, patients=3001)
    assert result.total == D("25115.04")
    assert [r.amount for r in result.indicators] == [D("5600.00"), D("17676.93"), D("1838.11")]
    assert result.advance == D("15069.02") and result.balance == D("10046.02")  # 60 % of 25 115,04 = 15 069,024


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 5000), st.integers(0, 100)), min_size=1, max_size=8),
       st.integers(0, 20000), st.integers(1, 8000), st.decimals("0.01", "20", places=2), st.integers(0, 100))
def test_indicators_advance_and_balance_add_up_exactly(rows, patients, reference, value, advance):
    indicators = [IndicatorInput(n, f"Indicateur {n}", D(f), D(v), D(a)) for n, (f, v, a) in enumerate(rows, 1)]
    result = aci.expected(2025, indicators, point_value=value, advance_percentage=D(advance), patients=patients,
                          reference_patients=reference)
    assert sum(r.amount for r in result.indicators) == result.total
    assert result.advance + result.balance == result.total and min(result.advance, result.balance) >= 0
    assert all(r.amount >= 0 for r in result.indicators)
    more = aci.expected(2025, indicators, point_value=value, advance_percentage=D(advance), patients=patients + 100,
                        reference_patients=reference)
    assert more.total >= result.total  # more patients never lowers the remuneration


def _rows():
    return [IndicatorRow("Accès aux soins", "800", "", ""), IndicatorRow("Fonction de coordination", "1 700", "1100", ""),
            IndicatorRow("", "", "", ""), IndicatorRow("Protocoles pluriprofessionnels", "0", "700", "50 %")]


def test_the_grid_is_saved_per_year_and_compared_with_what_was_received(sisa):
    grid = aci.save_grid(sisa, 2025, point_value="7,00", advance_percentage="60", reference_patients="4 000",
                         patients="3001", rows=_rows())
    assert [i.label for i in grid.indicators] == ["Accès aux soins", "Fonction de coordination",
                                                  "Protocoles pluriprofessionnels"]
    services.record_income(sisa, 2025, "advance", "Avance ACI 2025", date(2025, 6, 30), "15 000,00")
    services.record_income(sisa, 2025, "other", "Programme ETP", date(2025, 9, 1), "2 000,00")  # not the ACI
    seen = aci.comparison(sisa, 2025)
    assert seen.expected.total == D("25115.04") and seen.advance_received == D("15000.00")
    assert seen.advance_gap == D("-69.02")
    assert seen.balance_expected == D("10115.04") == seen.balance_outstanding
    assert seen.gap == D("-10115.04")
    services.record_income(sisa, 2025, "balance", "Solde ACI 2025", date(2026, 4, 20), "10 000,00")
    seen = aci.comparison(sisa, 2025)
    assert seen.balance_received == D("10000.00") and seen.balance_outstanding is None and seen.gap == D("-115.04")
    # Saved again: replaced, not added to.
    aci.save_grid(sisa, 2025, point_value="7", advance_percentage="60", reference_patients="4000", patients="3000",
                  rows=_rows()[:1])
    assert aci.comparison(sisa, 2025).expected.total == D("5600.00")


def test_the_next_year_starts_from_the_last_grid(sisa):
    aci.save_grid(sisa, 2024, point_value="7", advance_percentage="60", reference_patients="4000", patients="2800",
                  rows=_rows())
    start, indicators = aci.starting_grid(sisa, 2025)
    assert start.year == 2024 and start.patients == 2800 and len(indicators) == 3
    fresh, none = aci.starting_grid(sisa, 2023)
    assert (fresh.point_value, fresh.advance_percentage, fresh.reference_patients, none) == (D("7.00"), D("60.00"),
                                                                                            4000, [])
    assert aci.grid(sisa, 2023) is None  # nothing stored by looking


@pytest.mark.parametrize("field, value, message", [
    ("point_value", "0", "La valeur du point doit être positive."),
    ("advance_percentage", "120", "Le pourcentage de l'avance doit être compris entre 0 et 100"),
    ("reference_patients", "4000,5", "La patientèle de référence est un nombre entier"),
    ("patients", "beaucoup", "La patientèle médecin traitant de la structure est illisible : « beaucoup »."),
])
def test_bad_settings_are_refused_in_french(sisa, field, value, message):
    values = {"point_value": "7", "advance_percentage": "60", "reference_patients": "4000", "patients": "3000",
              field: value}
    with pytest.raises(SisaError) as refused:
        aci.save_grid(sisa, 2025, rows=_rows(), **values)
    assert message in str(refused.value) and aci.grid(sisa, 2025) is None


def test_bad_indicators_are_refused_naming_them(sisa):
    settings_ = {"point_value": "7", "advance_percentage": "60", "reference_patients": "4000", "patients": "3000"}
    with pytest.raises(SisaError, match="Le taux d'atteinte de « Protocoles » doit être compris entre 0 et 100"):
        aci.save_grid(sisa, 2025, rows=[IndicatorRow("Protocoles", "10", "", "150")], **settings_)
    with pytest.raises(SisaError, match="Chaque indicateur a un libellé"):
        aci.save_grid(sisa, 2025, rows=[IndicatorRow("", "10", "", "")], **settings_)
    with pytest.raises(SisaError, match="aucun indicateur"):
        aci.save_grid(sisa, 2025, rows=[IndicatorRow()], **settings_)


def test_the_expected_aci_page_and_its_chart(client, login_as, sisa):
    login_as("treasurer", org=sisa)
    page = client.get("/o/sisa-test/sisa/2025/aci").get_data(as_text=True)
    assert "Aucune grille de points pour 2025" in page
    form = {"point_value": "7,00", "advance_percentage": "60", "reference_patients": "4000", "patients": "3001"}
    for n, row in enumerate(_rows()):
        form.update({f"indicators-{n}-label": row.label, f"indicators-{n}-fixed_points": row.fixed_points,
                     f"indicators-{n}-variable_points": row.variable_points,
                     f"indicators-{n}-achievement": row.achievement})
    response = client.post("/o/sisa-test/sisa/2025/aci", data=form)
    assert response.status_code == 302
    services.record_income(sisa, 2025, "advance", "Avance ACI 2025", date(2025, 6, 30), "15 000,00")
    services.record_income(sisa, 2024, "balance", "Solde ACI 2024", date(2025, 4, 10), "9 000,00")
    page = client.get("/o/sisa-test/sisa/2025/aci").get_data(as_text=True)
    assert 'data-figure="expected">25\u202f115,04\u00a0€' in page
    assert 'data-figure="balance-expected">10\u202f115,04\u00a0€' in page
    assert "17\u202f676,93\u00a0€" in page and "Solde attendu en 2026" in page
    assert page.count('<rect ') == 4  # 2024 and 2025, expected and received
    assert "2025 : 25\u202f115,04\u00a0€ attendus, 15\u202f000,00\u00a0€ reçus." in page
    form["indicators-0-achievement"] = "200"
    refused = client.post("/o/sisa-test/sisa/2025/aci", data=form)
    assert refused.status_code == 422 and "doit être compris entre 0 et 100" in refused.get_data(as_text=True)
    assert aci.comparison(sisa, 2025).expected.total == D("25115.04")  # unchanged


def test_the_grid_form_shows_each_indicator_name_and_saves_back_as_shown(client, login_as, sisa):
    """The name of each indicator is an input of the grid: the page showed the row's own label
    (« Indicators-0 ») instead, so saving the grid as shown refused every indicator."""
    import html
    import re

    aci.save_grid(sisa, 2025, point_value="7,00", advance_percentage="60", reference_patients="4 000",
                  patients="3001", rows=_rows())
    login_as("treasurer", org=sisa)
    page = client.get("/o/sisa-test/sisa/2025/aci").get_data(as_text=True)
    assert "Indicators-0" not in page
    form = page[page.index('id="aci-grid"'):]
    form = form[:form.index("</form>")]
    fields = {html.unescape(name): html.unescape(value) for name, value in
              re.findall(r'<input [^>]*name="([^"]+)"[^>]*value="([^"]*)"', form)}
    assert fields["indicators-0-label"] == "Accès aux soins"
    assert client.post("/o/sisa-test/sisa/2025/aci", data=fields).status_code == 302
    assert [i.label for i in aci.grid(sisa, 2025).indicators] == [
        "Accès aux soins", "Fonction de coordination", "Protocoles pluriprofessionnels"]
