"""The treasurer's dashboard on a small known data set: exact figures, the cache, the SVG chart.

Three periods, every status, several categories and collèges (amounts in €):

==========  ======  ===================  ===========  =========  ====  ==========================
period      member  category             collège      status     due   paid
==========  ======  ===================  ===========  =========  ====  ==========================
2024        anne    Première adhésion    Libéraux     paid        20   20
2024        henri   Médecin              Libéraux     cancelled   50   0
2025        anne    Médecin              Libéraux     paid        50   50
2025        bruno   Autre professionnel  Libéraux     awaiting    30   0
2025        gamma   Structure            Structures   paid       100   100
2026        anne    Médecin              Libéraux     paid        50   50
2026        bruno   Autre professionnel  Libéraux     partially   30   10
2026        cap     Structure            Structures   awaiting   100   0
2026        dora    Autre professionnel  Usagers      exempt      30   0
2026        emile   Médecin              Libéraux     cancelled   50   0
2026        fanny   Première adhésion    (none)       paid        20   25 (5 of credit)
==========  ======  ===================  ===========  =========  ====  ==========================

Expected is what is due on memberships neither exempt nor cancelled; collected what was paid on
them; members are those in good standing (paid or exempt); cancelled memberships count nowhere
except in the status counts.
"""
import html
import re
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import update

from backoffice.extensions import db as _db
from backoffice.membership import services, stats
from backoffice.membership.models import Membership, MembershipStatus

S = MembershipStatus
D = Decimal


@pytest.fixture
def treasurer(login_as):
    return login_as("treasurer")


@pytest.fixture
def data_set(organisation, period, colleges):
    from tests.factories import ProfessionalFactory, StructureFactory

    liberaux, structures, usagers = colleges
    periods = {2026: period}
    for year in (2025, 2024):
        periods[year] = services.ensure_grid(services.period_for_year(organisation, year), previous=period)

    def category(year, label):
        return next(c for c in periods[year].categories if c.label == label)

    people = {name: ProfessionalFactory(last_name=name.capitalize()) for name in ("anne", "bruno", "dora", "emile",
                                                                                   "fanny", "henri")}
    people.update({name: StructureFactory(name=name.capitalize()) for name in ("cap", "gamma")})

    def member(year, name, label, college, paid=None, decision=None):
        m = services.create_membership(organisation, people[name], periods[year], category=category(year, label),
                                       college=college, joined_on=date(year, 1, 15))
        if paid:
            services.record_payment(m, paid, "transfer", date(year, 2, 1))
        if decision == "exempt":
            services.exempt_membership(m, "Représentante des usagers")
        elif decision == "cancel":
            services.cancel_membership(m, "Départ")
        return m

    member(2024, "anne", "Première adhésion", liberaux, paid="20")
    member(2024, "henri", "Médecin", liberaux, decision="cancel")
    member(2025, "anne", "Médecin", liberaux, paid="50")
    member(2025, "bruno", "Autre professionnel de santé", liberaux)
    member(2025, "gamma", "Structure", structures, paid="100")
    member(2026, "anne", "Médecin", liberaux, paid="50")
    member(2026, "bruno", "Autre professionnel de santé", liberaux, paid="10")
    member(2026, "cap", "Structure", structures)
    member(2026, "dora", "Autre professionnel de santé", usagers, decision="exempt")
    member(2026, "emile", "Médecin", liberaux, decision="cancel")
    member(2026, "fanny", "Première adhésion", None, paid="25")
    return periods


STATUS_2026 = {S.PAID: (2, D("70.00"), D("75.00")), S.PARTIALLY_PAID: (1, D("30.00"), D("10.00")),
               S.AWAITING_PAYMENT: (1, D("100.00"), D("0.00")), S.EXEMPT: (1, D("30.00"), D("0.00")),
               S.CANCELLED: (1, D("50.00"), D("0.00"))}
COLLEGES_2026 = [("Libéraux", 1, 2), ("Structures", 0, 1), ("Usagers", 1, 1), (None, 1, 1)]
BY_CATEGORY = [
    (2026, "Médecin", D("50.00"), D("50.00"), 1),
    (2026, "Autre professionnel de santé", D("30.00"), D("10.00"), 2),  # the exempt one counts, for 0 €
    (2026, "Structure", D("100.00"), D("0.00"), 1),
    (2026, "Première adhésion", D("20.00"), D("25.00"), 1),
    (2025, "Médecin", D("50.00"), D("50.00"), 1),
    (2025, "Autre professionnel de santé", D("30.00"), D("0.00"), 1),
    (2025, "Structure", D("100.00"), D("100.00"), 1),
    (2024, "Première adhésion", D("20.00"), D("20.00"), 1),
]
EVOLUTION = [stats.YearFigures(2024, 1, 1, D("20.00"), D("20.00")),
             stats.YearFigures(2025, 2, 3, D("180.00"), D("150.00")),
             stats.YearFigures(2026, 3, 5, D("200.00"), D("85.00"))]


def test_overview_figures(organisation, data_set):
    figures = stats.overview(organisation, data_set[2026])
    assert figures.status_counts == STATUS_2026
    assert figures.colleges == COLLEGES_2026
    assert figures.by_category == BY_CATEGORY
    assert figures.evolution == EVOLUTION


def test_overview_of_an_earlier_period(organisation, data_set):
    figures = stats.overview(organisation, data_set[2025])
    assert {s: c for s, (c, _, _) in figures.status_counts.items()} == {
        S.PAID: 2, S.PARTIALLY_PAID: 0, S.AWAITING_PAYMENT: 1, S.EXEMPT: 0, S.CANCELLED: 0}
    assert figures.colleges == [("Libéraux", 1, 2), ("Structures", 1, 1)]
    # The whole-organisation figures do not depend on the period shown.
    assert figures.by_category == BY_CATEGORY and figures.evolution == EVOLUTION


def test_other_organisations_do_not_count(organisation, other_organisation, data_set):
    from tests.factories import ProfessionalFactory

    theirs = services.ensure_grid(services.period_for_year(other_organisation, 2026), previous=data_set[2026])
    services.record_payment(services.create_membership(other_organisation, ProfessionalFactory(), theirs), "30",
                            "cash")
    assert stats.overview(organisation, data_set[2026]).evolution == EVOLUTION


def test_separate_queries_agree(organisation, data_set):
    """The per-figure queries (home page panel, older callers) give the same numbers."""
    period = data_set[2026]
    assert stats.status_counts(organisation, period) == STATUS_2026
    assert stats.collected_vs_expected(organisation) == BY_CATEGORY
    assert stats.evolution(organisation) == EVOLUTION
    assert sorted(stats.college_counts(organisation, period), key=lambda c: c[0] or "~") == COLLEGES_2026
    panel = stats.dashboard_panel(organisation, period)
    assert (panel["members_in_good_standing"], panel["awaiting"], panel["expected"], panel["collected"]) == (
        3, 2, D("200.00"), D("85.00"))


def test_cached_overview_round_trips_through_redis(membership_cache, organisation, data_set):
    first = stats.cached_overview(organisation, data_set[2026])
    again = stats.cached_overview(organisation, data_set[2026])  # decoded from Redis
    assert again == first == stats.overview(organisation, data_set[2026])
    assert again.colleges[-1] == (None, 1, 1) and isinstance(again.evolution[0].expected, Decimal)
    # A new payment changes the figures as soon as it is committed.
    bruno = next(m for m in services.open_memberships(organisation, data_set[2026]) if m.amount_paid)
    services.record_payment(bruno, "20", "cheque", date(2026, 3, 1), reference="42")
    _db.session.commit()
    after = stats.cached_overview(organisation, data_set[2026])
    assert after.status_counts[S.PAID] == (3, D("100.00"), D("105.00"))
    assert after.evolution[-1] == stats.YearFigures(2026, 4, 5, D("200.00"), D("105.00"))


def test_bar_chart_geometry():
    chart = stats.bar_chart(EVOLUTION, width=640, height=260, margin=40)
    plot_h = 260 - 2 * 40
    assert [(b.key, b.value, b.kind) for b in chart["bars"]] == [
        (2024, D("20.00"), "expected"), (2024, D("20.00"), "collected"),
        (2025, D("180.00"), "expected"), (2025, D("150.00"), "collected"),
        (2026, D("200.00"), "expected"), (2026, D("85.00"), "collected")]
    # Heights are proportional to the largest amount (200 €), bars stand on the baseline.
    assert [b.height for b in chart["bars"]] == [round(plot_h * v / 200, 1) for v in (20, 20, 180, 150, 200, 85)]
    assert all(round(b.y + b.height, 1) == chart["usable"] == 220 for b in chart["bars"])
    assert chart["groups"] == [2024, 2025, 2026]
    xs = [b.x for b in chart["bars"]]
    assert xs == sorted(xs) and len(set(xs)) == 6
    assert [t["value"] for t in chart["ticks"]] == [0, 50, 100, 150, 200]
    assert stats.bar_chart([]) is None


@pytest.mark.parametrize("largest, ticks", [
    ("200.00", [0, 50, 100, 150, 200]),
    ("3040.00", [0, 1000, 2000, 3000, 4000]),
    ("410.00", [0, 200, 400, 600, 800]),
    ("95.50", [0, 25, 50, 75, 100]),
    ("7.00", [0, 2, 4, 6, 8]),
])
def test_bar_chart_axis_has_round_ticks_above_the_largest_amount(largest, ticks):
    chart = stats.bar_chart([stats.YearFigures(2026, 1, 1, D(largest), D("1.00"))], height=260, margin=40)
    assert [t["value"] for t in chart["ticks"]] == ticks
    tallest = max(b.height for b in chart["bars"])
    assert tallest == round(180 * float(D(largest)) / ticks[-1], 1)


def test_chart_axis_is_written_in_french(client, treasurer, data_set):
    page = client.get("/o/cpts-test/membership/dashboard").get_data(as_text=True)
    assert re.findall(r'class="chart-tick">([^<]*€)</text>', page) == [
        "0 €", "50 €", "100 €", "150 €", "200 €"]


def test_bar_chart_with_nothing_collected():
    chart = stats.bar_chart([stats.YearFigures(2026, 0, 0, D("0.00"), D("0.00"))])
    assert [b.height for b in chart["bars"]] == [0, 0]


def text_of(fragment):
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment)).replace("\xa0", " ").replace("\u202f", " ")


def test_dashboard_page_shows_the_figures(client, treasurer, data_set):
    page = client.get("/o/cpts-test/membership/dashboard").get_data(as_text=True)
    # One status card per status, with its count.
    cards = {text_of(label).strip(): int(number) for label, number in re.findall(
        r'<div class="text-muted small">(.*?)</div>\s*<div class="fs-3 fw-semibold"><a [^>]*>(\d+)</a>', page)}
    assert cards == {"En attente de paiement": 1, "Partiellement payée": 1, "Payée": 2, "Exonérée": 1, "Annulée": 1}
    assert "reste 100,00 €" in text_of(page) and "reste 20,00 €" in text_of(page)
    # The chart: two bars per year with their amounts, the year and the members below.
    svg = page[page.index("<svg"):page.index("</svg>")]
    titles = [text_of(t) for t in re.findall(r"<rect [^>]*><title>(.*?)</title></rect>", svg)]
    assert titles == ["2024 attendu : 20,00 €", "2024 encaissé : 20,00 €", "2025 attendu : 180,00 €",
                      "2025 encaissé : 150,00 €", "2026 attendu : 200,00 €", "2026 encaissé : 85,00 €"]
    assert re.findall(r'class="chart-label">(\d{4})</text>', svg) == ["2024", "2025", "2026"]
    assert re.findall(r'class="chart-tick">(\d+) membres</text>', svg) == ["1", "2", "3"]
    assert text_of(re.search(r"<desc[^>]*>(.*?)</desc>", svg).group(1)).split(". ")[:3] == [
        "2024 : 20,00 € attendus, 20,00 € encaissés, 1 membres à jour",
        "2025 : 180,00 € attendus, 150,00 € encaissés, 2 membres à jour",
        "2026 : 200,00 € attendus, 85,00 € encaissés, 3 membres à jour"]
    # Collected vs expected per period and category.
    table = page[page.index('id="h-categories"'):page.index('id="h-colleges"')]
    rows = [[text_of(cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr><td>.*?</tr>", table, re.S)]
    assert rows == [[str(year), label, str(n), f"{expected:.2f} €".replace(".", ","), f"{collected:.2f} €".replace(".", ",")]
                    for year, label, expected, collected, n in BY_CATEGORY]
    # Members by collège.
    table = page[page.index('id="h-colleges"'):page.index('id="h-lapsed"')]
    rows = [[text_of(cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr><td>.*?</tr>", table, re.S)]
    assert rows == [["Libéraux", "1", "2"], ["Structures", "0", "1"], ["Usagers", "1", "1"], ["Sans collège", "1", "1"]]


def test_dashboard_lists_the_lapsed_members(client, treasurer, data_set):
    """Gamma (structure, paid in 2025) has not renewed for 2026; Anne and Bruno have."""
    page = html.unescape(client.get("/o/cpts-test/membership/dashboard").get_data(as_text=True))
    lapsed = page[page.index('id="h-lapsed"'):]
    assert re.findall(r'<a href="/o/cpts-test/membership/members/\d+">([^<]+)</a>', lapsed) == ["Gamma"]


def test_figures_computed_during_a_commit_are_not_served_after_it(membership_cache, organisation, data_set,
                                                                  monkeypatch):
    """A dashboard computed from data read just before another transaction commits is stored
    under the version it read: once the commit replaced the version, nobody is served it."""
    period = data_set[2026]
    before = stats.overview(organisation, period)
    bruno = next(m for m in services.open_memberships(organisation, period) if m.amount_paid)
    real_overview = stats.overview

    def overview_while_a_payment_commits(*args):
        figures = real_overview(*args)  # read before the payment…
        services.record_payment(bruno, "20", "cheque", date(2026, 3, 1), reference="43")
        # A transaction that started earlier: its rows carry an older time than the latest change.
        _db.session.execute(update(Membership).where(Membership.id == bruno.id)
                            .values(updated_at=datetime(2026, 1, 1, tzinfo=timezone.utc)))
        _db.session.commit()  # …which commits before the figures are stored
        return figures

    monkeypatch.setattr(stats, "overview", overview_while_a_payment_commits)
    assert stats.cached_overview(organisation, period) == before
    monkeypatch.setattr(stats, "overview", real_overview)
    after = stats.cached_overview(organisation, period)
    assert after != before and after == stats.overview(organisation, period)


def test_no_redis_traffic_when_the_cache_is_off(organisation, data_set, monkeypatch):
    monkeypatch.setattr(stats, "_redis", lambda url: pytest.fail("Redis used with the cache off"))
    bruno = next(m for m in services.open_memberships(organisation, data_set[2026]) if m.amount_paid)
    services.record_payment(bruno, "20", "cheque", date(2026, 3, 1), reference="44")
    _db.session.commit()
    assert stats.cached_overview(organisation, data_set[2026]) == stats.overview(organisation, data_set[2026])
