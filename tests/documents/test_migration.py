"""The migration that turns receipt files and deposit slips into durable documents keeps them
(same file, fingerprint and number) and starts the sequences after the numbers already given."""
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from backoffice import create_app
from backoffice.extensions import db
from config import Testing
from tests.foundation.test_migrations import _fresh_database_url

MIGRATION = "_receipts_and_slips_as_documents.py"


def _revision_before(app):
    script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
    [revision] = [r for r in script.walk_revisions() if r.path.endswith(MIGRATION)]
    return revision.down_revision


def _drop(pg_name):
    if pg_name:
        import psycopg

        from tests.conftest import POSTGRES_ADMIN_URL

        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


def _membership_paid_by_cheque(organisation):
    from backoffice.membership import services
    from backoffice.membership.models import CategoryKind
    from tests.factories import ProfessionalFactory

    period = services.period_for_year(organisation, 2026)
    category = services.set_fee_category(period, "Médecin", Decimal("50.00"), CategoryKind.PHYSICIAN)
    party = ProfessionalFactory(first_name="Gwénaëlle", last_name="Le Hénaff")
    membership = services.create_membership(organisation, party, period, category=category,
                                            joined_on=date(2026, 1, 10))
    cheque = services.record_payment(membership, "50", "cheque", date(2026, 2, 1), reference="0012345")
    return membership, cheque


@pytest.mark.no_db_transaction
def test_receipts_and_slips_survive_the_migration(database_url, tmp_path):
    url, pg_name = _fresh_database_url(database_url, tmp_path)
    app = create_app(Testing, SQLALCHEMY_DATABASE_URI=url, STORAGE_DIR=str(tmp_path / "storage"))
    try:
        with app.app_context():
            upgrade()
            from backoffice.documents.models import GeneratedDocument
            from backoffice.membership import deposits, receipts
            from backoffice.tasks.services import start_task
            from jobs.membership import cheque_deposit_slip
            from tests.factories import OrganisationFactory

            organisation = OrganisationFactory(slug="cpts-migration", name="CPTS de Brocéliande")
            membership, cheque = _membership_paid_by_cheque(organisation)
            receipt = receipts.receipt_of(membership)
            receipts.generate(receipt)
            sha256, number = receipt.document.sha256, receipt.number
            deposit = deposits.create_cheque_deposit(organisation, [cheque.id], date(2026, 2, 3))
            db.session.commit()
            start_task(organisation=organisation, user=None, kind="membership.cheque_deposit", label="Bordereau",
                       job=cheque_deposit_slip, params={"deposit_id": deposit.id})
            db.session.commit()  # the boundary: the task is handed over (run inline) after it
            ids = organisation.id, receipt.id, deposit.id
            db.session.remove()

            # Back to receipts with a file_path, the slips only in the task results…
            downgrade(revision=_revision_before(app))
            with db.engine.begin() as connection:
                assert connection.execute(text("SELECT count(*) FROM generated_documents")).scalar() == 0
                assert connection.execute(text("SELECT count(*) FROM document_sequences")).scalar() == 0
                file_path = connection.execute(text("SELECT file_path FROM membership_receipts")).scalar()
                assert (Path(app.config["STORAGE_DIR"]) / file_path).is_file()
            db.session.remove()
            # … and up again: what was there becomes documents.
            upgrade()
            organisation_id, receipt_id, deposit_id = ids
            from backoffice.member_portal.models import MembershipReceipt
            from backoffice.documents import generated
            from backoffice.organisations.models import Organisation

            receipt = db.session.get(MembershipReceipt, receipt_id)
            assert receipt.document.sha256 == sha256 and receipt.document.number == number == "2026-0001"
            assert receipt.document.path == file_path and generated.verify(receipt.document)
            assert receipts.downloadable(receipt)
            [slip] = db.session.scalars(select(GeneratedDocument).where(GeneratedDocument.kind == "cheque_deposit_slip"))
            assert (slip.subject_id, slip.number) == (deposit_id, "0001") and generated.verify(slip)
            assert "/documents/cheque_deposit_slip/" in slip.abspath().as_posix()
            organisation = db.session.get(Organisation, organisation_id)
            assert generated.allocate_number(organisation, "membership_receipt", year=2026).label == "2026-0002"
            assert generated.allocate_number(organisation, "cheque_deposit_slip").value == 2
            db.session.rollback()
            db.session.remove()
            db.engine.dispose()
    finally:
        _drop(pg_name)
