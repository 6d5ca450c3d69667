from backoffice.features import ASSOCIATIONS, Feature, MenuEntry, Panel, TaskKind


def _dashboard_panel(organisation):
    from backoffice.grants.services import dashboard_figures

    return dashboard_figures(organisation)


def _closing_checks(organisation, year):
    from backoffice.grants.devices import closing_checks as device_checks
    from backoffice.grants.payments import closing_checks

    return closing_checks(organisation, year) + device_checks(organisation, year)


def _match_bank_lines(bank_account, by=None):
    from backoffice.grants.payments import match_bank_lines

    return match_bank_lines(bank_account, by=by)


FEATURE = Feature(
    name="grants", label="Aides",
    kinds=ASSOCIATIONS,  # a CPTS's programmes; a SISA redistributes, it does not grant
    blueprints=("grants",),
    menu=(MenuEntry("Aides", "grants.index", "grants.view", order=45),
          MenuEntry("Mes aides", "grants.member.index", "grants.apply", order=36)),
    panels=(Panel("grants/_dashboard_panel.html", "grants.view", data=_dashboard_panel, order=20),),
    permissions=frozenset({"grants.view", "grants.decide", "grants.manage", "grants.apply"}),
    task_kinds=(TaskKind("grants.agreement", download="grants.view"),
                TaskKind("grants.agreements", download="grants.view"),
                TaskKind("grants.transfers", download="grants.manage"),  # beneficiaries' IBANs
                TaskKind("grants.report", download="grants.view"),
                TaskKind("grants.custody", download="grants.view")),
    closing_checks=(_closing_checks,),
    bank_matchers=(_match_bank_lines,),  # grants paid by transfer, singly or by pain.001 batch
)
