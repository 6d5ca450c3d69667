"""SISA remuneration: the ACI team remuneration shared among the associates, exact to the cent.

Public surface:

``backoffice.sisa.calculation`` (pure, no database)
    ``compute(Inputs) -> Result``: the distributable amount shared among ordered keys (percentage
    and basis: equal, hours, mission points; optional profession weights; prorated by days of
    presence), by ``backoffice.money.allocate``; ``Inputs.to_json``/``from_json`` (what a frozen
    distribution stores); ``check_keys``, ``presence_days``; ``DistributionError``.

``backoffice.sisa.services`` (flush, never commit; refusals are ``SisaError``)
    Associates (affiliations ``Role.ASSOCIATE``): ``associates(org, year)``, ``save_associate``
    (capital share, IBAN/BIC checked with schwifty and kept in banking's payee details).
    Income: ``record_income`` (posts ``aci_income`` or ``subsidy_received``, source
    ``sisa_income:<id>``), ``income``, ``total_income``. Deductions: ``add_deduction`` (amount or
    percentage), ``remove_deduction``, ``year_figures`` (gross, deductions, distributable),
    ``post_deductions`` (D charge account / C 408, source ``sisa_deductions:<id>``; a reserve has
    no entry). Keys: ``create_scenario``, ``set_keys`` (100 % checked). Mission points:
    ``add_mission_points``. Hours: ``minutes_by_party``. Simulation: ``inputs_for``,
    ``simulate``, ``compare``.

Distributions (same module): ``prepare_version``, ``freeze`` (a correction posts only the
    differences and claims the refunds of the overpaid), ``payable``, ``transfers``,
    ``transfer_file``, ``mark_paid``; ``start_statements``, ``start_summary``,
    ``start_transfer_file`` (the tasks of the screens and the demo); refunds: ``refunds``,
    ``settle_refund``, netting against a later payment: ``netting_proposals``, ``net_refunds``,
    ``netted_against``.

Views (``views.py``, blueprint ``sisa``, under ``/o/<org>/sisa/``): the year's overview (income,
deductions), associates, keys by scenario, mission points, the simulation; an associate's own
figures (``sisa.my_figures``).
"""
