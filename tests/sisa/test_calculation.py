"""The distribution calculation (backoffice.sisa.calculation): worked examples checked by hand,
and properties for any associates, hours, points, presence and keys."""
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice.sisa.calculation import (AssociateInput, DistributionError, Inputs, KeyInput, compute,
                                         presence_days)

D = Decimal


def associate(party_id, name, hours="0", points="0", profession="infirmier", starts_on=date(2012, 12, 1),
              ends_on=None):
    return AssociateInput(party_id, name, profession, starts_on, ends_on, D(hours), D(points))


def key(position, percentage, basis, prorate=False, weights=None):
    return KeyInput(position, f"Clé {position}", D(percentage), basis, prorate, weights or {})


def amounts(result):
    return {row.associate.name: row.total for row in result.associates}


# --- worked examples (the README shows them) ------------------------------------------------

def test_three_associates_two_keys_by_hand():
    # 1 000,00 € : 40 % equal (400,00 → 133,34 / 133,33 / 133,33), 60 % by hours 10/20/30
    # (600,00 → 100,00 / 200,00 / 300,00).
    inputs = Inputs(2025, D("1000.00"), (
        associate(1, "Anne BESNIER", hours="10"), associate(2, "Bruno CHESNEL", hours="20"),
        associate(3, "Chloé DUVAL", hours="30")), (key(1, "40", "equal"), key(2, "60", "hours")))
    result = compute(inputs)
    assert amounts(result) == {"Anne BESNIER": D("233.34"), "Bruno CHESNEL": D("333.33"),
                               "Chloé DUVAL": D("433.33")}
    assert [k.amount for k in result.keys] == [D("400.00"), D("600.00")]
    assert result.by_party()[1].by_key == {1: D("133.34"), 2: D("100.00")}


def test_an_associate_who_joined_in_june_is_prorated_by_days():
    # 2025 has 365 days; joined on 16 June: 199 days. Equal key prorated: weights 365 / 199.
    # 5 640,00 € × 365/564 = 3 650,00 ; × 199/564 = 1 990,00.
    assert presence_days(2025, date(2025, 6, 16), None) == 199
    inputs = Inputs(2025, D("5640.00"), (associate(1, "Gaëlle LEMAÎTRE"),
                                         associate(2, "Erwan FOUQUET", starts_on=date(2025, 6, 16))),
                    (key(1, "100", "equal", prorate=True),))
    assert amounts(compute(inputs)) == {"Gaëlle LEMAÎTRE": D("3650.00"), "Erwan FOUQUET": D("1990.00")}


def test_a_tie_in_remainders_goes_to_the_smallest_party_id_whatever_the_order():
    # 100,00 € equal among 3: 33,333… each, one cent left: to party 4 (the smallest id), not to
    # the first listed or the first by name.
    listed = (associate(9, "Agnès BIGOT"), associate(4, "Yann ZÉNON"), associate(7, "Loïc MÉNARD"))
    result = compute(Inputs(2025, D("100.00"), listed, (key(1, "100", "equal"),)))
    assert amounts(result) == {"Agnès BIGOT": D("33.33"), "Yann ZÉNON": D("33.34"), "Loïc MÉNARD": D("33.33")}
    reversed_result = compute(Inputs(2025, D("100.00"), tuple(reversed(listed)), (key(1, "100", "equal"),)))
    assert amounts(reversed_result) == amounts(result)


def test_profession_weights_multiply_the_basis():
    inputs = Inputs(2025, D("300.00"), (associate(1, "Hélène BROCHARD", profession="medecin_generaliste"),
                                        associate(2, "Soizic HARDY", profession="infirmier")),
                    (key(1, "100", "equal", weights={"medecin_generaliste": D(2)}),))
    assert amounts(compute(inputs)) == {"Hélène BROCHARD": D("200.00"), "Soizic HARDY": D("100.00")}


def test_associates_absent_all_year_are_left_out():
    inputs = Inputs(2025, D("100.00"), (associate(1, "Parti AVANT", ends_on=date(2024, 12, 31)),
                                        associate(2, "Resté ICI")), (key(1, "100", "equal"),))
    assert amounts(compute(inputs)) == {"Resté ICI": D("100.00")}


@pytest.mark.parametrize("keys, distributable, message", [
    ((key(1, "30", "equal"), key(2, "60", "hours")), "1000.00", "totalisent 90 % au lieu de 100 %"),
    ((key(1, "70", "equal"), key(2, "30,5".replace(",", "."), "hours")), "1000.00", "totalisent 100,5 %"),
    ((key(1, "100", "equal"),), "0.00", "doit être positif"),
    ((key(1, "100", "equal"),), "-10.00", "doit être positif"),
    ((), "1000.00", "Aucune clé"),
    ((key(1, "100", "points"),), "1000.00", "« Clé 1 » ne peut être répartie : aucun point de mission"),
])
def test_bad_inputs_are_refused_in_french(keys, distributable, message):
    inputs = Inputs(2025, D(distributable), (associate(1, "Anne BESNIER", hours="3"),), keys)
    with pytest.raises(DistributionError, match=message):
        compute(inputs)


def test_inputs_round_trip_through_json_to_the_same_cents():
    inputs = Inputs(2025, D("12345.67"), (associate(1, "Anne BESNIER", hours="12.5", points="3"),
                                          associate(2, "Bruno CHESNEL", hours="7.25", ends_on=date(2025, 9, 30))),
                    (key(1, "30", "equal", prorate=True), key(2, "50", "hours", weights={"infirmier": D("1.5")}),
                     key(3, "20", "points")))
    again = Inputs.from_json(inputs.to_json())
    assert again == inputs
    assert amounts(compute(again)) == amounts(compute(inputs))


# --- properties -------------------------------------------------------------------------------

amount = st.decimals(min_value=D("0.01"), max_value=D("999999.99"), places=2)
quantity = st.decimals(min_value=D("0"), max_value=D("500"), places=2)
day = st.dates(min_value=date(2024, 6, 1), max_value=date(2026, 6, 1))


@st.composite
def associates_strategy(draw):
    count = draw(st.integers(min_value=1, max_value=25))
    ids = draw(st.lists(st.integers(min_value=1, max_value=10_000), min_size=count, max_size=count, unique=True))
    rows = []
    for party_id in ids:
        starts = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2025, 12, 31)))
        ends = draw(st.none() | st.dates(min_value=max(starts, date(2025, 1, 1)), max_value=date(2027, 1, 1)))
        rows.append(AssociateInput(party_id, draw(st.sampled_from(["Anne", "Bruno", "Chloé", "Dédé"])) + str(party_id),
                                   draw(st.sampled_from(["infirmier", "medecin_generaliste", "pharmacien"])),
                                   starts, ends, draw(quantity), draw(quantity)))
    return tuple(rows)


@st.composite
def keys_strategy(draw):
    count = draw(st.integers(min_value=1, max_value=5))
    cuts = sorted(draw(st.lists(st.integers(min_value=1, max_value=9999), min_size=count - 1, max_size=count - 1,
                                unique=True)))
    bounds = [0, *cuts, 10000]
    return tuple(KeyInput(i + 1, f"Clé {i + 1}", D(bounds[i + 1] - bounds[i]) / 100,
                          draw(st.sampled_from(["equal", "hours", "points"])), draw(st.booleans()),
                          draw(st.sampled_from([{}, {"medecin_generaliste": D("1.5")}, {"infirmier": D("0")}])))
                 for i in range(count))


def _computable(inputs):
    try:
        return compute(inputs)
    except DistributionError:
        return None


@settings(max_examples=200, deadline=None)
@given(amount, associates_strategy(), keys_strategy())
def test_shares_add_up_exactly_none_is_negative_and_the_order_does_not_matter(distributable, people, keys):
    inputs = Inputs(2025, distributable, people, keys)
    result = _computable(inputs)
    if result is None:
        return
    assert result.total == distributable
    assert all(row.total >= 0 for row in result.associates)
    assert sum((k.amount for k in result.keys), D(0)) == distributable
    for k in result.keys:
        assert sum(row.by_key[k.key.position] for row in result.associates) == k.amount
    shuffled = replace(inputs, associates=tuple(reversed(people)))
    assert {p: r.total for p, r in compute(shuffled).by_party().items()} == \
           {p: r.total for p, r in result.by_party().items()}


@settings(max_examples=200, deadline=None)
@given(amount, associates_strategy(), keys_strategy(), st.data())
def test_more_hours_never_means_less_money(distributable, people, keys, data):
    result = _computable(Inputs(2025, distributable, people, keys))
    if result is None:
        return
    chosen = data.draw(st.sampled_from([row.associate for row in result.associates]))
    more = data.draw(st.decimals(min_value=D("0.01"), max_value=D("100"), places=2))
    people_after = tuple(replace(p, hours=p.hours + more) if p.party_id == chosen.party_id else p for p in people)
    after = compute(Inputs(2025, distributable, people_after, keys))
    assert after.by_party()[chosen.party_id].total >= result.by_party()[chosen.party_id].total


def test_presence_days_over_a_year():
    assert presence_days(2025, date(2012, 12, 1), None) == 365
    assert presence_days(2025, date(2012, 12, 1), date(2025, 9, 30)) == 273
    assert presence_days(2024, date(2024, 1, 1), None) == 366
    assert presence_days(2025, date(2026, 1, 1), None) == 0
    assert presence_days(2025, date(2025, 12, 31), date(2025, 12, 31)) == 1
    assert presence_days(2025, date(2025, 3, 1), date(2025, 3, 1) + timedelta(days=9)) == 10
