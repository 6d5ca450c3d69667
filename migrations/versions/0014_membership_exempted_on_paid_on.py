"""membership: memberships.exempted_on, and paid_on filled as « fully paid since » for the voter roll

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

``paid_on`` of every paid membership becomes the day since which its confirmed payments have
covered the amount due without interruption (what ``membership.roll.paid_since`` computes, copied
here: migrations do not import live code); ``exempted_on`` of an exempt membership is the day of
its last change (``updated_at``), the best date the rows hold.
"""
import contextlib
from datetime import date, datetime
from decimal import Decimal
from itertools import groupby

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

memberships = sa.table('memberships', sa.column('id', sa.Integer), sa.column('status', sa.String),
                       sa.column('amount_due', sa.Numeric(12, 2)), sa.column('joined_on', sa.Date),
                       sa.column('paid_on', sa.Date), sa.column('exempted_on', sa.Date),
                       sa.column('updated_at', sa.DateTime(timezone=True)))
payments = sa.table('membership_payments', sa.column('membership_id', sa.Integer), sa.column('status', sa.String),
                    sa.column('amount', sa.Numeric(12, 2)), sa.column('paid_on', sa.Date))


def _paid_since(amount_due, rows, default):
    total = Decimal('0.00')
    since = default if amount_due <= 0 else None
    for day, same_day in groupby(sorted(rows, key=lambda r: r[0]), key=lambda r: r[0]):
        covered_before = total >= amount_due
        total += sum((Decimal(amount) for _, amount in same_day), Decimal('0.00'))
        if total < amount_due:
            since = None
        elif not covered_before or since is None:
            since = day
    return since


def _as_date(value):
    if isinstance(value, str):  # SQLite hands back text
        value = datetime.fromisoformat(value)
    return value.date() if isinstance(value, datetime) else value


def upgrade():
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exempted_on', sa.Date(), nullable=True))
    connection = op.get_bind()
    confirmed = {}
    for membership_id, amount, paid_on in connection.execute(
            sa.select(payments.c.membership_id, payments.c.amount, payments.c.paid_on)
            .where(payments.c.status == 'confirmed')):
        confirmed.setdefault(membership_id, []).append((_as_date(paid_on), amount))
    for row in connection.execute(sa.select(memberships.c.id, memberships.c.amount_due, memberships.c.joined_on,
                                            memberships.c.paid_on).where(memberships.c.status == 'paid')).all():
        since = _paid_since(Decimal(row.amount_due), confirmed.get(row.id, []), _as_date(row.joined_on))
        since = since or _as_date(row.paid_on) or _as_date(row.joined_on)
        connection.execute(memberships.update().where(memberships.c.id == row.id).values(paid_on=since))
    for row in connection.execute(sa.select(memberships.c.id, memberships.c.updated_at)
                                  .where(memberships.c.status == 'exempt')).all():
        connection.execute(memberships.update().where(memberships.c.id == row.id)
                           .values(exempted_on=_as_date(row.updated_at) or date.today()))


@contextlib.contextmanager
def _foreign_keys_off_on_sqlite():
    """SQLite rebuilds ``memberships`` to drop a column (batch mode): with foreign keys on, dropping
    the old table fails on the payments that point to it. The pragma only changes outside a
    transaction: end it, switch, begin again."""
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        yield
        return
    bind.exec_driver_sql('COMMIT')
    bind.exec_driver_sql('PRAGMA foreign_keys=OFF')
    bind.exec_driver_sql('BEGIN')
    try:
        yield
    finally:
        bind.exec_driver_sql('COMMIT')
        bind.exec_driver_sql('PRAGMA foreign_keys=ON')
        bind.exec_driver_sql('BEGIN')


def downgrade():
    with _foreign_keys_off_on_sqlite(), op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_column('exempted_on')
