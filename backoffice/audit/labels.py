"""Readable audit entries: French names of tables and columns, and readable values.

Each feature may describe its tables in a module ``backoffice/<feature>/audit_labels.py``
that calls ``register``; those modules are discovered the first time a label is
needed. What is not registered is shown as stored.
"""
from dataclasses import dataclass

TABLE_LABELS = {}
FIELD_LABELS = {}  # table -> {column: label}
VALUE_FORMATTERS = {}  # (table, column) -> callable(value) -> str
_loaded = False


def register(table, label, fields=None, formatters=None):
    TABLE_LABELS[table] = label
    FIELD_LABELS.setdefault(table, {}).update(fields or {})
    for column, formatter in (formatters or {}).items():
        VALUE_FORMATTERS[(table, column)] = formatter


def _load():
    global _loaded
    if not _loaded:
        from backoffice import feature_modules

        feature_modules("audit_labels")
        _loaded = True


def field_label(table, column):
    _load()
    return FIELD_LABELS.get(table, {}).get(column, column)


def table_label(table):
    _load()
    return TABLE_LABELS.get(table, table)


def known_tables():
    """(table, French label) of the described tables, by label."""
    _load()
    return sorted(TABLE_LABELS.items(), key=lambda item: item[1])


@dataclass
class Change:
    label: str
    before: str
    after: str


def format_value(table, column, value):
    """A stored value as people read it (profession label, site name, formatted phone…)."""
    _load()
    if value is None or value == "":
        return "—"
    formatter = VALUE_FORMATTERS.get((table, column))
    if formatter is not None:
        try:
            return formatter(value)
        except Exception:  # noqa: BLE001  (a label must never break the audit page)
            return str(value)
    if value is True:
        return "oui"
    if value is False:
        return "non"
    return str(value)


def describe(entry):
    """The changed columns of an audit entry as ``Change(label, before, after)``, in French where known."""
    _load()
    labels = FIELD_LABELS.get(entry.table_name, {})
    before, after = entry.before or {}, entry.after or {}
    changes = []
    for column in list(dict.fromkeys([*before, *after])):
        if column == "id" or column == "sort_name":
            continue
        old, new = before.get(column), after.get(column)
        if entry.action == "create" and new in (None, ""):
            continue
        changes.append(Change(labels.get(column, column), format_value(entry.table_name, column, old),
                              format_value(entry.table_name, column, new)))
    return changes
