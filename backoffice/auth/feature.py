from backoffice.features import Feature, MenuEntry

FEATURE = Feature(
    name="auth", label="Comptes et rôles",
    menu=(MenuEntry("Comptes et rôles", "auth.users.index", "users.manage", order=80, group="Administration"),),
    permissions=frozenset({"users.manage"}),
)
