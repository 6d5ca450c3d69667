from backoffice.features import Feature, MenuEntry, Panel


def _dashboard_figures(organisation):
    from backoffice.people.services import dashboard_figures

    return dashboard_figures(organisation)


FEATURE = Feature(
    name="people", label="Annuaire",
    menu=(MenuEntry("Annuaire", "people.index", "people.view", order=20),),
    panels=(Panel("people/_dashboard_panel.html", "dashboard.view",
                  data=_dashboard_figures, order=90),),
    permissions=frozenset({"dashboard.view", "people.view", "people.edit", "people.import"}),
)

