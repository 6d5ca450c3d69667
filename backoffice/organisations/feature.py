from backoffice.features import Feature, MenuEntry

FEATURE = Feature(
    name="organisations", label="Paramètres",
    menu=(MenuEntry("Paramètres", "organisations.settings", "organisation.edit", order=90, group="Administration"),),
    permissions=frozenset({"organisation.edit", "organisation.logo"}),
)
