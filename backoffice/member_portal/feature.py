from backoffice.features import ASSOCIATIONS, Feature, MenuEntry, TaskKind, requester_or

FEATURE = Feature(
    name="member_portal", label="Mon adhésion",
    kinds=ASSOCIATIONS,
    blueprints=("self_service.member", "self_service.online"),
    menu=(MenuEntry("Mon adhésion", "self_service.member.home", "self.service", order=35),),
    permissions=frozenset({"self.service", "membership.view", "membership.manage"}),
    task_kinds=(
        TaskKind("membership.receipt", download=requester_or("membership.view")),  # the member's own
        TaskKind("membership.receipts", download="membership.manage"),
        TaskKind("membership.reminders", download="membership.manage"),
    ),
)
