from backoffice.features import Feature

# Its pages are reached from the organisation's settings (no menu entry of its own).
FEATURE = Feature(
    name="banking", label="Comptes bancaires",
    permissions=frozenset({"banking.manage"}),
)
