from backoffice.features import Feature, MenuEntry, TaskKind
from backoffice.organisations.models import OrganisationKind

FEATURE = Feature(
    name="sisa", label="Rémunération SISA",
    kinds=frozenset({OrganisationKind.SISA}),
    blueprints=("sisa",),
    menu=(MenuEntry("Répartition ACI", "sisa.index", "sisa.view", order=30),
          MenuEntry("Mes heures", "sisa.my_figures", "sisa.self", order=35)),
    permissions=frozenset({"sisa.view", "sisa.manage", "sisa.self"}),
    task_kinds=(TaskKind("sisa.statements", download="sisa.manage"),
                TaskKind("sisa.summary", download="sisa.manage"),
                TaskKind("sisa.certificates", download="sisa.manage"),
                TaskKind("sisa.transfer_file", download="sisa.manage")),  # every associate's IBAN
)
