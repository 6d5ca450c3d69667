from backoffice.features import Feature, MenuEntry

FEATURE = Feature(
    name="audit", label="Journal des modifications",
    menu=(MenuEntry("Journal des modifications", "audit.index", "audit.view", order=70, group="Administration"),),
    permissions=frozenset({"audit.view"}),
)
