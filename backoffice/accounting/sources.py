"""The ``source`` of an automatic journal entry: which row of which table it books.

``source`` makes a posting idempotent (one original entry per source and organisation, backed by
a unique index; see ``services``). So that two features never collide, every source starts with
the name of the **table** of the row that caused the entry, then that row's id, then optional
qualifiers for a row that posts more than one entry::

    posting_source(MembershipPayment, 123)                    # "membership_payments:123"
    posting_source("grant_applications", 5, "commitment")     # "grant_applications:5:commitment"
    posting_source(membership, membership.id, 42)             # a model instance names its table too

The table is checked against the application's metadata, so a typo or a made-up namespace is
refused. The seeded demonstration data is the one exception: its sources start with ``demo:``
(no table has that name).
"""
from __future__ import annotations

SOURCE_MAX_LENGTH = 120  # JournalEntry.source


def _table_name(table):
    from backoffice.extensions import db

    name = table if isinstance(table, str) else getattr(table, "__tablename__", None) or getattr(table, "name", None)
    if not name or name not in db.metadata.tables:
        raise ValueError(f"posting_source() needs a table of the application, not {table!r}")
    return name


def posting_source(table, row_id, *qualifiers) -> str:
    """``"<table>:<id>[:<qualifier>…]"``; ``table`` is a model class or instance, a ``Table`` or
    a table name. ``row_id`` is the row's integer id; qualifiers are short texts or numbers
    without ``:``. ``ValueError`` for anything else (a programming error, not a user's)."""
    if isinstance(row_id, bool) or not isinstance(row_id, int) or row_id <= 0:
        raise ValueError(f"posting_source() needs the row's id, not {row_id!r}")
    parts = [_table_name(table), str(row_id)]
    for qualifier in qualifiers:
        text = str(qualifier)
        if isinstance(qualifier, bool) or not text or ":" in text or text != text.strip():
            raise ValueError(f"bad posting_source() qualifier {qualifier!r}")
        parts.append(text)
    source = ":".join(parts)
    if len(source) > SOURCE_MAX_LENGTH:
        raise ValueError(f"posting source longer than {SOURCE_MAX_LENGTH} characters: {source!r}")
    return source


def opening_source(organisation_id, fiscal_year, version=1) -> str:
    """The source of the ``version``-th AN entry of a fiscal year (``backoffice.accounting.opening``):
    the first one always has version 1, so that "has this year an AN" is one lookup in the unique
    index on (organisation, source)."""
    return posting_source("accounting_ledgers", organisation_id, "opening", fiscal_year, version)
