"""membership: receipts and cheque deposit slips become durable generated documents

Existing receipt files (``STORAGE_DIR/<org>/membership/receipts/<token>.docx``) become version 1
of their membership's ``membership_receipt`` document, in place, with their SHA-256;
``membership_receipts.file_path`` gives way to ``document_id``. Deposit slips still available as
a task result are copied into ``STORAGE_DIR/<org>/documents/`` (task results expire). The
number sequences start after the numbers already given (receipts per organisation and year,
deposits per organisation).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

"""
import hashlib
import secrets
import shutil
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from flask import current_app

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
RECEIPT, SLIP = "membership_receipt", "cheque_deposit_slip"


def _storage():
    return Path(current_app.config["STORAGE_DIR"])


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def _insert_document(connection, **values):
    values.setdefault("version", 1)
    values.setdefault("status", "generated")
    values.setdefault("mimetype", DOCX)
    columns = ", ".join(values)
    placeholders = ", ".join(f":{name}" for name in values)
    connection.execute(sa.text(f"INSERT INTO generated_documents ({columns}) VALUES ({placeholders})"), values)
    return connection.execute(sa.text(
        "SELECT id FROM generated_documents WHERE organisation_id = :o AND kind = :k AND subject_type = :t "
        "AND subject_id = :s AND version = 1"),
        {"o": values["organisation_id"], "k": values["kind"], "t": values["subject_type"],
         "s": values["subject_id"]}).scalar_one()


def _existing_task(connection, task_id):
    if task_id is None:
        return None
    return connection.execute(sa.text("SELECT id FROM tasks WHERE id = :id"), {"id": task_id}).scalar()


def _set_sequence(connection, organisation_id, kind, year, last_number):
    connection.execute(sa.text(
        "INSERT INTO document_sequences (organisation_id, kind, year, last_number) VALUES (:o, :k, :y, :n)"),
        {"o": organisation_id, "k": kind, "y": year, "n": last_number})


def upgrade():
    with op.batch_alter_table('membership_receipts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_membership_receipts_document_id_generated_documents'),
                                    'generated_documents', ['document_id'], ['id'], ondelete='SET NULL')
    connection = op.get_bind()
    storage = _storage()
    receipts = connection.execute(sa.text(
        "SELECT id, organisation_id, membership_id, number, file_path, task_id, created_at, generated_at "
        "FROM membership_receipts ORDER BY id")).mappings().all()
    last_by_year = {}
    for receipt in receipts:
        year, _, value = receipt["number"].partition("-")
        if year.isdigit() and value.isdigit():
            key = (receipt["organisation_id"], int(year))
            last_by_year[key] = max(last_by_year.get(key, 0), int(value))
        path = storage / receipt["file_path"] if receipt["file_path"] else None
        if path is None or not path.is_file():
            continue  # never produced, or lost: the treasurer's "regenerate" makes it again
        document_id = _insert_document(
            connection, organisation_id=receipt["organisation_id"], kind=RECEIPT, subject_type="memberships",
            subject_id=receipt["membership_id"], number=receipt["number"],
            filename=f"attestation-adhesion-{receipt['number']}.docx", path=receipt["file_path"],
            size=path.stat().st_size, sha256=_sha256(path), task_id=_existing_task(connection, receipt["task_id"]),
            created_at=receipt["created_at"], generated_at=receipt["generated_at"] or receipt["created_at"])
        connection.execute(sa.text("UPDATE membership_receipts SET document_id = :d WHERE id = :id"),
                           {"d": document_id, "id": receipt["id"]})
    for (organisation_id, year), last_number in last_by_year.items():
        _set_sequence(connection, organisation_id, RECEIPT, year, last_number)

    deposits = connection.execute(sa.text(
        "SELECT d.id, d.organisation_id, d.number, d.task_id, t.result_path, t.finished_at, t.requested_by_id "
        "FROM membership_cheque_deposits d LEFT JOIN tasks t ON t.id = d.task_id AND t.status = 'done' "
        "ORDER BY d.id")).mappings().all()
    last_by_organisation = {}
    for deposit in deposits:
        organisation_id = deposit["organisation_id"]
        last_by_organisation[organisation_id] = max(last_by_organisation.get(organisation_id, 0), deposit["number"])
        source = storage / deposit["result_path"] if deposit["result_path"] else None
        if source is None or not source.is_file():
            continue
        folder = storage / str(organisation_id) / "documents" / SLIP
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"membership_cheque_deposits-{deposit['id']}-v1-{secrets.token_hex(8)}.docx"
        shutil.copyfile(source, target)
        number = f"{deposit['number']:04d}"
        _insert_document(
            connection, organisation_id=organisation_id, kind=SLIP, subject_type="membership_cheque_deposits",
            subject_id=deposit["id"], number=number, filename=f"bordereau-remise-cheques-{number}.docx",
            path=target.relative_to(storage).as_posix(), size=target.stat().st_size, sha256=_sha256(target),
            task_id=deposit["task_id"], created_by_id=deposit["requested_by_id"],
            created_at=deposit["finished_at"], generated_at=deposit["finished_at"])
    for organisation_id, last_number in last_by_organisation.items():
        _set_sequence(connection, organisation_id, SLIP, 0, last_number)

    with op.batch_alter_table('membership_receipts', schema=None) as batch_op:
        batch_op.drop_column('file_path')


def downgrade():
    with op.batch_alter_table('membership_receipts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_path', sa.String(length=300), nullable=True))
    connection = op.get_bind()
    connection.execute(sa.text(
        "UPDATE membership_receipts SET file_path = (SELECT path FROM generated_documents g "
        "WHERE g.id = membership_receipts.document_id)"))
    with op.batch_alter_table('membership_receipts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_membership_receipts_document_id_generated_documents'),
                                 type_='foreignkey')
        batch_op.drop_column('document_id')
    # Files stay where they are: the receipts point at their latest version's file again; an
    # upgrade makes documents of them anew.
    for table in ("generated_documents", "document_sequences"):
        connection.execute(sa.text(f"DELETE FROM {table} WHERE kind IN (:r, :s)"), {"r": RECEIPT, "s": SLIP})
