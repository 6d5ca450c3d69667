"""A file written for a request that is then refused does not stay on disk: the upload follows
the transaction (or the savepoint) it was written in."""
import io
from pathlib import Path

import pytest
from flask import current_app, url_for
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.grants import attachments
from backoffice.grants.models import AttachmentKind, GrantApplication
from tests.factories import UserFactory
from tests.grants.factories import application, dermatoscope_programme, paid_member

PDF = b"%PDF-1.7\n% devis Medisafe n. 2026-0412\n" + b"0" * 200


def stored_files():
    root = Path(current_app.config["STORAGE_DIR"])
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_refused_application_leaves_no_quote_on_disk(app, client, login_as, organisation):
    programme = dermatoscope_programme(organisation, closes_on=None, opens_on=None)
    party = paid_member(organisation)
    login_as("member", user=UserFactory(party_id=party.id, email="m.le-gall@example.org"))
    # The quote is a real PDF and is written first; the training certificate is not an image:
    # the whole application is refused, so the quote written a moment before must go too.
    response = client.post(url_for("grants.member.apply", org="cpts-test", programme_id=programme.id), data={
        "site_id": 0, "equipment_kind": "Dermatoscope", "quoted_price": "750", "amount_requested": "600",
        "training_on": "2026-02-03",
        "quote": (io.BytesIO(PDF), "Devis dermatoscope.pdf"),
        "training_certificate": (io.BytesIO(b"GIF89a une image animee"), "attestation.gif")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert db.session.scalar(select(GrantApplication)) is None
    assert stored_files() == []


def test_an_accepted_application_keeps_its_quote(app, client, login_as, organisation):
    programme = dermatoscope_programme(organisation, closes_on=None, opens_on=None)
    party = paid_member(organisation)
    login_as("member", user=UserFactory(party_id=party.id, email="m.le-gall@example.org"))
    response = client.post(url_for("grants.member.apply", org="cpts-test", programme_id=programme.id), data={
        "site_id": 0, "equipment_kind": "Dermatoscope", "quoted_price": "750", "amount_requested": "600",
        "training_on": "2026-02-03", "quote": (io.BytesIO(PDF), "Devis dermatoscope.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    row = db.session.scalar(select(GrantApplication))
    assert stored_files() == [row.attachments[0].stored_name]


def test_a_savepoint_rolled_back_removes_its_file_and_a_released_one_follows_its_transaction(organisation):
    programme = dermatoscope_programme(organisation)
    row = application(organisation, programme)
    with pytest.raises(RuntimeError):
        with db.session.begin_nested():
            attachments.add_attachment(row, AttachmentKind.QUOTE, "devis.pdf", PDF)
            assert len(stored_files()) == 1
            raise RuntimeError("refused later in the same request")
    assert stored_files() == []

    outer = db.session.begin_nested()  # the request's transaction, as the tests' session sees it
    with db.session.begin_nested():     # a view's savepoint, released
        kept = attachments.add_attachment(row, AttachmentKind.QUOTE, "devis.pdf", PDF)
    assert stored_files() == [kept.stored_name]
    outer.rollback()                   # ...then the request's transaction rolls back
    assert stored_files() == []

    with db.session.begin_nested():
        kept = attachments.add_attachment(row, AttachmentKind.QUOTE, "devis.pdf", PDF)
    db.session.commit()
    db.session.rollback()              # nothing left to undo: the file stays with its row
    assert stored_files() == [kept.stored_name]
