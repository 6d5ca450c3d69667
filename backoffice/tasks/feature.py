from backoffice.features import Feature, MenuEntry

FEATURE = Feature(
    name="tasks", label="Tâches",
    menu=(MenuEntry("Tâches", "tasks.index", "tasks.view", order=60, group="Administration"),),
    permissions=frozenset({"tasks.view"}),
)
