from backoffice.features import Feature, MenuEntry

FEATURE = Feature(
    name="main", label="Tableau de bord",
    menu=(MenuEntry("Tableau de bord", "main.dashboard.dashboard", "dashboard.view", order=10),),
    permissions=frozenset({"dashboard.view"}),
)
