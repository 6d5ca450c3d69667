from backoffice.features import ASSOCIATIONS, Feature, MenuEntry, Panel, TaskKind


def _dashboard_panel(organisation):
    from backoffice.assemblies.services import next_assembly

    return next_assembly(organisation)


FEATURE = Feature(
    name="assemblies", label="Assemblées générales",
    kinds=ASSOCIATIONS,  # a SISA's associates meet under company law, not as an association's members
    blueprints=("assemblies",),
    # « AG », the word members use: the bar must fit at 1 280 px (the organisation's name in the
    # switcher is cut at 11rem for it).
    menu=(MenuEntry("AG", "assemblies.index", "assemblies.view", order=33),
          MenuEntry("Mes AG", "assemblies.mine", "self.service", order=36)),
    panels=(Panel("assemblies/_dashboard_panel.html", "assemblies.view", data=_dashboard_panel, order=15),),
    permissions=frozenset({"assemblies.view", "assemblies.manage", "self.service"}),
    task_kinds=(TaskKind("assemblies.convocations", download="assemblies.manage"),
                TaskKind("assemblies.convocation_documents", download="assemblies.manage"),
                TaskKind("assemblies.attendance_sheet", download="assemblies.view"),
                TaskKind("assemblies.minutes", download="assemblies.view"),
                TaskKind("assemblies.results", download="assemblies.view"),
                TaskKind("assemblies.secret_board", download="assemblies.view")),
)
