from backoffice.features import Feature, MenuEntry, TaskKind

FEATURE = Feature(
    name="documents", label="Documents",
    menu=(MenuEntry("Documents", "documents.index", "documents.generate", order=50),),
    permissions=frozenset({"documents.generate", "documents.templates"}),
    task_kinds=(TaskKind("documents.directory_sheets", download="documents.generate"),),
)
