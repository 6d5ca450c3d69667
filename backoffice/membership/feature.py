from backoffice.features import ASSOCIATIONS, Feature, MenuEntry, Panel, TaskKind


def _party_memberships(organisation, party):
    from backoffice.membership.services import membership_history

    return {"memberships": membership_history(organisation, party)}


def _dashboard_panel(organisation):
    from backoffice.membership.stats import organisation_dashboard

    return organisation_dashboard(organisation)


FEATURE = Feature(
    name="membership", label="Adhésions",
    kinds=ASSOCIATIONS,  # a SISA has associates, not members paying a fee
    blueprints=("membership",),
    menu=(MenuEntry("Adhésions", "membership.index", "membership.view", order=30),),
    panels=(Panel("membership/_dashboard_panel.html", "membership.view",
                  data=_dashboard_panel, order=10),),
    party_panels=(Panel("membership/_party_panel.html", "membership.view", data=_party_memberships, order=10),),
    permissions=frozenset({"membership.view", "membership.manage"}),
    task_kinds=(
        TaskKind("membership.export", download="membership.view"),
        TaskKind("membership.cheque_deposit", download="membership.manage"),
        TaskKind("membership.direct_debit", download="membership.manage"),  # members' IBANs
        TaskKind("membership.renewal", download="membership.manage"),
    ),
)

