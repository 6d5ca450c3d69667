from backoffice.features import Feature, MenuEntry, TaskKind

FEATURE = Feature(
    name="accounting", label="Comptabilité",
    menu=(MenuEntry("Comptabilité", "accounting.index", "accounting.view", order=40),),
    permissions=frozenset({"accounting.view", "accounting.edit", "accounting.export", "accounting.settings",
                           "accounting.close"}),
    task_kinds=(TaskKind("accounting.export", download="accounting.export"),
                TaskKind("accounting.annual", download="accounting.export")),
)
