"""The convention d'attribution: its context, its issue by a job, its signature.

Every issue is a new version of the application's ``grant_agreement`` durable document (the
previous one superseded, never overwritten); the signature is recorded on the version in force
(``generated.mark_signed``) and on the application: a signed scan uploaded (its SHA-256), or
online by the beneficiary (the click, its date, his IP and the SHA-256 of the document he read).
"""
from __future__ import annotations

from datetime import date

from backoffice.documents import generated
from backoffice.documents.services import DOCX_MIMETYPE, organisation_context, render_document
from backoffice.extensions import db
from backoffice.grants import attachments
from backoffice.grants.documents import AGREEMENT_KIND, CONDITIONS
from backoffice.grants.models import AttachmentKind, GrantStatus
from backoffice.grants.services import GrantError, _notify
from backoffice.lifecycle import move
from backoffice.models import utcnow

S = GrantStatus


def programme_context(programme, on=None) -> dict:
    """What every convention of ``programme`` says, the application's own part apart (see
    :func:`agreement_context`): built once for a batch, with its few queries."""
    from backoffice.organisations.affiliations import Role, current_holder

    organisation = programme.organisation
    president = current_holder(organisation, Role.PRESIDENT)
    return {
        "organisation": organisation_context(organisation),
        "president": getattr(president, "formal_name", None) or (president.display_name if president else
                                                                  "son représentant légal"),
        "programme": {"name": programme.name, "description": programme.description,
                      "funders": ", ".join(f.name for f in programme.funders) or organisation.name,
                      "training": programme.training_label if programme.requires_training else None},
        "conditions": list(CONDITIONS), "place": organisation.city or "", "today": on or date.today(),
    }


def agreement_context(application, number=None, common=None) -> dict:
    """The variables of ``grant_agreement`` (see ``backoffice.grants.documents``) for
    ``application``; ``common``: its programme's :func:`programme_context`, when already built."""
    common = common if common is not None else programme_context(application.programme)
    party, site = application.applicant, application.site
    address = "\n".join(filter(None, [party.address, " ".join(filter(None, [party.postcode, party.commune]))]))
    programme = common["programme"]
    if not programme["description"]:
        programme = programme | {"description": f"Aide à l'acquisition de matériel ({application.equipment_kind})."}
    return common | {
        "beneficiary": {"name": getattr(party, "formal_name", party.display_name),
                        "profession": getattr(party, "profession_label", "") or "",
                        "rpps": getattr(party, "rpps", None), "adeli": getattr(party, "adeli", None),
                        "siret": getattr(party, "siret", None), "address": address or None, "email": party.email},
        "practice": ({"name": site.name, "address": site.address, "commune": site.commune} if site else None),
        "programme": programme,
        "equipment": {"kind": application.equipment_kind, "model": application.equipment_model or "—",
                      "supplier": application.supplier or "—", "quoted_price": application.quoted_price},
        "grant": {"reference": application.reference, "amount": application.amount_granted,
                  "decided_on": application.decided_on, "number": number or "—"},
    }


def agreement_filename(application) -> str:
    return f"convention-{application.reference.lower()}.docx"


def issue_agreement(application, *, task=None):
    """Render and keep a new version of the convention of an approved application (inside a job).

    The first issue moves the application to « Convention émise »; issuing again (a correction)
    supersedes the version in force and keeps the number. Refused once signed."""
    return _issue(application, task, None)[0]


def _issue(application, task, common):
    """``issue_agreement``, given its programme's :func:`programme_context` when a batch built it
    already; returns the document and its bytes."""
    if application.status not in (S.APPROVED, S.AGREEMENT_ISSUED):
        raise GrantError(f"Pas de convention à émettre pour une demande « {application.status.label} ».")
    organisation = application.programme.organisation
    document = generated.request_document(organisation, AGREEMENT_KIND, application, task=task,
                                          year=_year(application))
    data = render_document(organisation, AGREEMENT_KIND, agreement_context(application, document.number, common))
    document = generated.store_document(document, data, filename=agreement_filename(application),
                                        mimetype=DOCX_MIMETYPE, task=task)
    if application.status is S.APPROVED:
        move(application, S.AGREEMENT_ISSUED)
        _notify(application, S.AGREEMENT_ISSUED)
    db.session.flush()
    return document, data


def _year(application):
    """Conventions are numbered in the year of the decision."""
    return (application.decided_on or date.today()).year


def awaiting_agreement(programme) -> list:
    """The approved applications of ``programme`` whose convention is not issued yet, their
    applicants and practices loaded with them (in the order of the applications)."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from backoffice.grants.models import GrantApplication

    return list(db.session.scalars(
        select(GrantApplication).where(GrantApplication.programme_id == programme.id,
                                       GrantApplication.status == S.APPROVED)
        .options(selectinload(GrantApplication.applicant), selectinload(GrantApplication.site))
        .order_by(GrantApplication.id)))


BATCH = 100  # conventions rendered, then their rows flushed, together


def issue_agreements(programme, *, task=None, archive=None) -> int:
    """The conventions of every approved application of ``programme`` not issued yet, in one go
    (inside a job): each a durable document, its application moved to « Convention émise » and
    its applicant told; written into ``archive`` (a ``zipfile.ZipFile``) too. Returns the count.

    What the conventions share (organisation, president, programme, funders) is read once, the
    applicants and practices in one query each; the template is compiled once
    (``render_document`` keeps it), the numbers taken from the sequence in one block per year,
    the files flushed to disk together, and the job commits once at its end."""
    from backoffice.documents.services import organisation_logo
    from backoffice.organisations.storage import synced_at_end

    from backoffice.documents.services import organisation_logo
    from backoffice.mail.services import queue_mails
    from backoffice.organisations.storage import synced_at_end
    from backoffice.grants.services import mail_about

    applications = awaiting_agreement(programme)
    organisation = programme.organisation
    common = programme_context(programme) | {"logo": organisation_logo(organisation)}
    # A failed earlier attempt has its lineage (and number) already: issued as one issue would.
    numbered = generated.subjects_with_versions(organisation, AGREEMENT_KIND, applications)
    again = [a for a in applications if a.id in numbered]
    fresh = [a for a in applications if a.id not in numbered]
    numbers = {}
    for year in sorted({_year(a) for a in fresh}):
        of_year = [a for a in fresh if _year(a) == year]
        numbers |= dict(zip((a.id for a in of_year),
                            generated.allocate_numbers(organisation, AGREEMENT_KIND, len(of_year), year=year)))
    done = 0

    def written(application, data):
        nonlocal done
        if archive is not None:
            archive.writestr(agreement_filename(application), data)
        done += 1
        if task is not None:
            task.report_progress(done, len(applications), "Conventions émises")

    with synced_at_end():
        for application in again:
            written(application, _issue(application, task, common)[1])
        for start in range(0, len(fresh), BATCH):
            chunk = fresh[start:start + BATCH]
            items = [(a, render_document(organisation, AGREEMENT_KIND,
                                         agreement_context(a, numbers[a.id].label, common)),
                      agreement_filename(a), numbers[a.id].label) for a in chunk]
            generated.issue_first_documents(organisation, AGREEMENT_KIND, items, mimetype=DOCX_MIMETYPE, task=task)
            for application, data, _, _ in items:
                move(application, S.AGREEMENT_ISSUED)
                written(application, data)
            queue_mails(filter(None, (mail_about(a, S.AGREEMENT_ISSUED) for a in chunk)))
            db.session.flush()
    return len(applications)


def current_agreement(application):
    return generated.current_document(application.programme.organisation, AGREEMENT_KIND, application)


def agreement_versions(application):
    return generated.versions(application.programme.organisation, AGREEMENT_KIND, application)


def _document_to_sign(application):
    if application.status is not S.AGREEMENT_ISSUED:
        raise GrantError(f"La convention ne peut pas être signée : la demande est « {application.status.label} ».")
    document = current_agreement(application)
    if document is None or not generated.verify(document):
        raise GrantError("La convention n'est pas disponible : elle doit être émise à nouveau.")
    return document


def sign_online(application, user, ip_address):
    """The beneficiary signs the version in force himself (his account is the applicant's)."""
    if user is None or user.party_id != application.applicant_id:
        raise GrantError("Seul le bénéficiaire peut signer sa convention en ligne.")
    document = _document_to_sign(application)
    now = utcnow()
    application.signature_method, application.signed_at = "online", now
    application.signed_ip, application.signed_sha256 = (ip_address or "")[:45] or None, document.sha256
    application.signed_by_id = user.id
    generated.mark_signed(document, by=user, at=now)
    move(application, S.AGREEMENT_SIGNED, by=user, reason=f"Signée en ligne (empreinte {document.sha256[:12]}…)")
    _notify(application, S.AGREEMENT_SIGNED)
    return application


def sign_by_scan(application, filename, data, *, user=None):
    """Staff (or the beneficiary) upload the scan of the convention signed on paper."""
    document = _document_to_sign(application)
    scan = attachments.add_attachment(application, AttachmentKind.SIGNED_AGREEMENT, filename, data, user=user)
    now = utcnow()
    application.signature_method, application.signed_at = "scan", now
    application.signed_sha256, application.signed_ip = scan.sha256, None
    application.signed_by_id = getattr(user, "id", None)
    generated.mark_signed(document, by=user, at=now)
    move(application, S.AGREEMENT_SIGNED, by=user, reason=f"Scan signé déposé ({scan.filename})")
    _notify(application, S.AGREEMENT_SIGNED)
    return application
