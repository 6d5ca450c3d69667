"""The accounting screens: what each page shows, the forms, and their French errors."""
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select

from backoffice.accounting import services
from backoffice.accounting.models import Account, ClosedPeriod, JournalEntry, PostingRule
from backoffice.extensions import db

BASE = "/o/cpts-test/accounting"


def _text(response):
    return response.get_data(as_text=True)


@pytest.fixture
def treasurer(login_as, books):
    return login_as("treasurer")


@pytest.mark.parametrize("path", ["/", "/balance", "/ledger", "/ledger?account=411", "/ledger?account=512",
                                  "/journal", "/journal?journal=BQ&q=Règlement", "/lettering", "/periods", "/closing",
                                  "/exports", "/accounts", "/accounts?q=512", "/journals", "/settings", "/entries/new"])
def test_pages_render_with_books(client, treasurer, post_fee, path):
    post_fee(paid=True)
    post_fee("30.00")
    response = client.get(BASE + path + ("&" if "?" in path else "?") + "year=2026")
    assert response.status_code == 200
    assert "Comptabilité" in _text(response)


@pytest.mark.parametrize("path, empty", [("/balance", "Aucune écriture sur cette période"),
                                         ("/journal", "Aucune écriture"),
                                         ("/lettering", "Tout est lettré"),
                                         ("/exports", "Aucun export pour l'instant")])
def test_empty_states(client, treasurer, path, empty):
    assert empty in _text(client.get(BASE + path))


def test_overview_shows_results_and_the_chart(client, treasurer, books, post_fee):
    post_fee("50.00", paid=True, day=date(2026, 3, 10))
    services.post_event(books, "bank_fees", amount=Decimal("12.00"), entry_date=date(2026, 4, 2), piece_ref="R",
                        label="Frais")
    page = _text(client.get(BASE + "/?year=2026"))
    assert "<svg" in page and 'class="bar-income"' in page
    assert "Mars 2026 – produits : 50,00" in page and "Avril 2026 – charges : 12,00" in page
    # the axis names each month in full (not « janv », « sept »), in the year's order
    ticks = re.findall(r'<text class="chart-tick"[^>]*rotate\([^>]*>([^<]+)</text>', page)
    assert ticks == ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
                     "octobre", "novembre", "décembre"]
    assert "38,00" in page  # result 50 − 12
    assert "<script" not in page.split("</nav>", 1)[1].split("<script src", 1)[0]  # no inline script


def test_balance_and_ledger_show_amounts(client, treasurer, post_fee, member):
    post_fee("50.00", paid=True)
    post_fee("30.00", day=date(2026, 2, 1))
    balance = _text(client.get(BASE + "/balance?year=2026"))
    assert "Balance équilibrée." in balance
    assert "80,00" in balance and "130,00" in balance  # 411: 80 debit / 50 credit; total 130
    ledger = _text(client.get(BASE + "/ledger?year=2026&account=411"))
    assert "Marie DUPONT" in ledger and "AA" in ledger
    # Running balance: 50 (due), 0 (paid), 30 (second fee).
    rows = ledger.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    running = re.findall(r'<td class="amount">([^<]*)</td></tr>', rows)
    assert running == ["50,00\xa0€", "0,00\xa0€", "30,00\xa0€"]


def test_ledger_running_balance_continues_across_pages(client, treasurer, books):
    for day in range(1, 31):
        services.post_event(books, "bank_fees", amount=Decimal("2.00"), entry_date=date(2026, 1, day), piece_ref="R",
                            label=f"Frais {day}")
    for day in range(1, 31):
        services.post_event(books, "bank_fees", amount=Decimal("1.00"), entry_date=date(2026, 2, day % 28 + 1),
                            piece_ref="R", label=f"Frais février {day}")
    page2 = _text(client.get(BASE + "/ledger?year=2026&account=627&page=2"))
    assert "Report des pages précédentes" in page2
    assert "80,00" in page2  # page 1: 30 × 2,00 + 20 × 1,00
    assert "90,00" in page2  # total of the period: 60 + 30


def test_unknown_account_ledger_is_404(client, treasurer):
    assert client.get(BASE + "/ledger?account=999999").status_code == 404


def _entry_form(lines, **overrides):
    data = {"journal": "OD", "entry_date": "2026-03-14", "piece_ref": "OD-12", "piece_date": "", "label": "Reclassement"}
    data.update(overrides)
    for index, (account, party, debit, credit) in enumerate(lines):
        data.update({f"lines-{index}-account": account, f"lines-{index}-party": party,
                     f"lines-{index}-label": "", f"lines-{index}-debit": debit, f"lines-{index}-credit": credit})
    return data


def _count_entries():
    return db.session.scalar(select(func.count()).select_from(JournalEntry))


def test_manual_entry_form_posts_a_balanced_entry(client, treasurer, member):
    data = _entry_form([("6226", "", "1 200,50", ""), ("411", str(member.id), "", "1200,50"), ("", "", "", "")])
    response = client.post(BASE + "/entries/new", data=data)
    assert response.status_code == 302
    entry = db.session.scalar(select(JournalEntry))
    assert entry.reference == "2026-00001" and entry.total == Decimal("1200.50")
    assert entry.lines[1].auxiliary.party_id == member.id
    assert "Écriture 2026-00001 enregistrée." in _text(client.get(response.headers["Location"]))


@pytest.mark.parametrize("lines, message", [
    ([("6226", "", "100,00", ""), ("512", "", "", "90,00")], "Écriture déséquilibrée"),
    ([("6226", "", "100,00", ""), ("999", "", "", "100,00")], "Le compte 999 n&#39;existe pas"),
    ([("6226", "", "100,00", ""), ("411", "", "", "100,00")], "compte 411 est un compte collectif"),
    ([("6226", "", "abc", ""), ("512", "", "", "100,00")], "Ligne 1 : le débit est invalide : « abc »"),
])
def test_manual_entry_errors_are_shown_and_nothing_is_saved(client, treasurer, lines, message):
    response = client.post(BASE + "/entries/new", data=_entry_form(lines))
    assert response.status_code == 422
    assert message in _text(response)
    assert _count_entries() == 0


def test_manual_entry_in_a_closed_month(client, treasurer, books):
    services.close_period(books, "month", 2026, 3)
    response = client.post(BASE + "/entries/new", data=_entry_form([("6226", "", "10,00", ""), ("512", "", "", "10,00")]))
    assert response.status_code == 422 and "est clôturée" in _text(response)
    assert _count_entries() == 0


def test_reverse_from_the_entry_page(client, treasurer, post_fee):
    due = post_fee()
    page = _text(client.get(f"{BASE}/entries/{due.id}"))
    assert "Contre-passer cette écriture" in page and "data-confirm" in page
    response = client.post(f"{BASE}/entries/{due.id}/reverse", data={"entry_date": "", "label": ""})
    assert response.status_code == 302
    assert "contre-passée par l&#39;écriture 2026-00002" in _text(client.get(response.headers["Location"]))
    again = client.post(f"{BASE}/entries/{due.id}/reverse", data={"entry_date": "", "label": ""}, follow_redirects=True)
    assert "déjà été contre-passée" in _text(again)


def test_entry_of_another_organisation_is_404(client, treasurer, other_organisation, member):
    entry = services.post_event(other_organisation, "fee_due", amount=Decimal("5.00"), entry_date=date(2026, 1, 2),
                                party=member, piece_ref="X", label="X")
    assert client.get(f"{BASE}/entries/{entry.id}").status_code == 404
    assert client.post(f"{BASE}/entries/{entry.id}/reverse", data={}).status_code == 404


def test_manual_lettering_and_unlettering(client, treasurer, books, member, post_fee):
    due = post_fee("50.00")
    part = services.post_event(books, "fee_paid", amount=Decimal("20.00"), entry_date=date(2026, 1, 20), party=member,
                               piece_ref="E", label="Acompte", payment_method="cash")
    refused = client.post(BASE + "/lettering", data={"line": [due.lines[0].id, part.lines[1].id]},
                          follow_redirects=True)
    assert "ne s&#39;équilibrent pas" in _text(refused)
    services.post_event(books, "fee_paid", amount=Decimal("30.00"), entry_date=date(2026, 1, 21), party=member,
                        piece_ref="E", label="Solde", payment_method="cash")
    assert due.lines[0].lettering_code == "AA"
    undone = client.post(BASE + "/lettering/unletter", data={"code": "aa"}, follow_redirects=True)
    assert "Lettrage AA retiré de 3 lignes." in _text(undone)
    auto = client.post(BASE + "/lettering/auto", data={}, follow_redirects=True)
    assert "1 groupe(s) lettré(s)" in _text(auto)


def test_closing_a_month_from_the_periods_page(client, treasurer, books, post_fee):
    post_fee(day=date(2026, 1, 15))
    page = _text(client.get(BASE + "/periods?year=2026"))
    assert "Clôturer le mois" in page and "Cette action est définitive" in page
    response = client.post(BASE + "/periods/close", data={"kind": "month", "year": "2026", "month": "1"},
                           follow_redirects=True)
    assert "clôture enregistrée" in _text(response)
    assert db.session.scalar(select(ClosedPeriod.kind)) == "month"
    again = client.post(BASE + "/periods/close", data={"kind": "month", "year": "2026", "month": "1"},
                        follow_redirects=True)
    assert "déjà clôturée" in _text(again)


def _settings_form(books):
    """The settings form as the page submits it unchanged."""
    form = {}
    for spec, rule in services.posting_rules(books):
        if rule.debit_account:
            form[f"{spec.name}-debit"] = rule.debit_account.number
        if rule.credit_account:
            form[f"{spec.name}-credit"] = rule.credit_account.number
        if rule.journal:
            form[f"{spec.name}-journal"] = rule.journal.code
    for method, _, rule in services.payment_method_rules(books):
        form[f"method-{method}-account"] = rule.account.number
        form[f"method-{method}-journal"] = rule.journal.code
    return form


def test_settings_change_a_rule_or_nothing(client, treasurer, books):
    page = _text(client.get(BASE + "/settings"))
    form = _settings_form(books)
    assert "Cotisation appelée" in page
    bad = dict(form, **{"fee_due-credit": "7561", "fee_due-debit": "512"})
    response = client.post(BASE + "/settings", data=bad)
    assert response.status_code == 422 and "choisissez un compte collectif" in _text(response)
    rule = db.session.scalar(select(PostingRule).where(PostingRule.event == "fee_due"))
    assert rule.credit_account.number == "756"  # nothing saved
    response = client.post(BASE + "/settings", data=dict(form, **{"fee_due-credit": "7561"}))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(PostingRule).where(PostingRule.event == "fee_due")).credit_account.number == "7561"


def _selected(page, name):
    """The value selected in the ``<select name=…>`` of a page."""
    select_html = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S).group(0)
    return re.search(r'<option value="([^"]*)" selected>', select_html).group(1)


def test_settings_list_the_cheque_deposit_with_its_defaults(client, treasurer, books):
    """Books set up before ``cheques_deposited`` existed show it with the chart's accounts, editable."""
    db.session.execute(delete(PostingRule).where(PostingRule.event == "cheques_deposited"))
    page = _text(client.get(BASE + "/settings"))
    assert "Remise de chèques en banque" in page
    assert [_selected(page, f"cheques_deposited-{side}") for side in ("debit", "credit", "journal")] == \
        ["512", "5112", "BQ"]
    response = client.post(BASE + "/settings", data=dict(_settings_form(books), **{"cheques_deposited-debit": "517"}))
    assert response.status_code == 302
    db.session.expire_all()
    rule = db.session.scalar(select(PostingRule).where(PostingRule.event == "cheques_deposited"))
    assert (rule.debit_account.number, rule.credit_account.number) == ("517", "5112")


def test_accounts_add_edit_delete(client, treasurer, books):
    response = client.post(BASE + "/accounts", data={"number": "512100", "label": "Crédit Mutuel"})
    assert response.status_code == 302
    account = db.session.scalar(select(Account).where(Account.number == "512100"))
    duplicate = client.post(BASE + "/accounts", data={"number": "512100", "label": "Doublon"})
    assert duplicate.status_code == 422 and "existe déjà" in _text(duplicate)
    edit = client.post(f"{BASE}/accounts/{account.id}", data={"label": "Crédit Mutuel (courant)", "active": "y"})
    assert edit.status_code == 302 and account.label == "Crédit Mutuel (courant)"
    refused = client.post(f"{BASE}/accounts/{services.get_account(books, '756').id}", data={"label": "Cotisations"})
    assert refused.status_code == 422 and "utilisé par une règle" in _text(refused)
    assert client.post(f"{BASE}/accounts/{account.id}/delete", data={}).status_code == 302
    assert db.session.scalar(select(Account).where(Account.number == "512100")) is None


def test_journals_add_and_edit(client, treasurer):
    assert client.post(BASE + "/journals", data={"code": "vt", "label": "Ventes", "kind": "sales"}).status_code == 302
    page = _text(client.get(BASE + "/journals"))
    assert "VT" in page and "Ventes" in page


@pytest.mark.parametrize("role, path, method, expected", [
    ("board", "/entries/new", "get", 403),
    ("board", "/exports", "get", 403),
    ("accountant", "/exports", "get", 200),
    ("accountant", "/entries/new", "get", 403),
    ("accountant", "/settings", "get", 403),
    ("accountant", "/accounts", "post", 403),
    ("member", "/", "get", 403),
])
def test_permissions(client, login_as, books, role, path, method, expected):
    login_as(role)
    assert getattr(client, method)(BASE + path).status_code == expected


def test_accountant_sees_no_edit_buttons(client, login_as, post_fee):
    due = post_fee()
    login_as("accountant")
    page = _text(client.get(f"{BASE}/entries/{due.id}"))
    assert "Contre-passer" not in page
    assert "Saisir une écriture" not in _text(client.get(BASE + "/journal"))


def test_closing_checklist_then_the_confirmed_closing(client, treasurer, books, post_fee):
    post_fee(day=date(2026, 11, 15))  # a fee still due: a warning, not a refusal
    page = _text(client.get(BASE + "/closing?year=2026"))
    for expected in ("Points de contrôle", "Exercices précédents", "Écritures en brouillard", "Dates hors exercice",
                     "Rapprochement bancaire", "Lettrage des comptes adhérents", "Chèques à remettre",
                     "1 ligne de compte adhérent (411) non lettrée", "À vérifier", "irréversible",
                     "Clôturer définitivement l&#39;exercice"):
        assert expected in page, expected
    unconfirmed = client.post(BASE + "/closing/2026", data={}, follow_redirects=True)
    assert "Cochez la case pour confirmer la clôture" in _text(unconfirmed)
    assert db.session.scalar(select(func.count()).select_from(ClosedPeriod)) == 0
    done = client.post(BASE + "/closing/2026", data={"confirm": "y"}, follow_redirects=True)
    # The closing is a task (run inline in the tests; tests/accounting/test_closing_job.py: a worker).
    assert "Clôture de l&#39;exercice du 01/01/2026 au 31/12/2026" in _text(done)
    assert "clôture définitive enregistrée (1 écritures validées" in _text(done)
    closed = _text(client.get(BASE + "/closing?year=2026"))
    assert "Exercice clôturé le" in closed and "Empreinte SHA-256 du FEC définitif" in closed
    assert db.session.scalar(select(ClosedPeriod.kind)) == "year"
    entry = db.session.scalar(select(JournalEntry))
    assert "N° définitif" in _text(client.get(BASE + f"/entries/{entry.id}"))
    again = client.post(BASE + "/closing/2026", data={"confirm": "y"}, follow_redirects=True)
    assert "déjà clôturé" in _text(again)


def test_closing_refused_with_a_year_before_still_open(client, treasurer, books, post_fee):
    post_fee(day=date(2025, 6, 1))
    page = _text(client.get(BASE + "/closing?year=2026"))
    assert "Bloquant" in page and "impossible tant que des points bloquants" in page
    refused = client.post(BASE + "/closing/2026", data={"confirm": "y"}, follow_redirects=True)
    assert "exercice du 01/01/2026 au 31/12/2026 refusée" in _text(refused)
    assert db.session.scalar(select(func.count()).select_from(ClosedPeriod)) == 0


def test_a_fiscal_year_is_not_closed_from_the_periods_form(client, treasurer, books):
    response = client.post(BASE + "/periods/close", data={"kind": "year", "year": "2026"})
    assert response.status_code == 302 and "/closing?year=2026" in response.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(ClosedPeriod)) == 0


@pytest.mark.parametrize("role, expected", [("accountant", 403), ("board", 403), ("admin", 302)])
def test_only_admin_and_treasurer_close_a_year(client, login_as, books, role, expected):
    login_as(role)
    assert client.post(BASE + "/closing/2026", data={"confirm": "y"}).status_code == expected
