from backoffice.features import Feature, TaskKind

# Its pages are reached from the organisation's settings (no menu entry of its own).
FEATURE = Feature(
    name="banking", label="Comptes bancaires",
    permissions=frozenset({"banking.manage"}),
    task_kinds=(TaskKind("banking.reconciliation", download="banking.manage"),),
)
