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


def agreement_context(application, number=None) -> dict:
    """The variables of ``grant_agreement`` (see ``backoffice.grants.documents``) for ``application``."""
    from backoffice.organisations.affiliations import Role, current_holder

    organisation = application.programme.organisation
    programme, party, site = application.programme, application.applicant, application.site
    president = current_holder(organisation, Role.PRESIDENT)
    address = "\n".join(filter(None, [party.address, " ".join(filter(None, [party.postcode, party.commune]))]))
    return {
        "organisation": organisation_context(organisation),
        "president": getattr(president, "formal_name", None) or (president.display_name if president else
                                                                  f"son représentant légal"),
        "beneficiary": {"name": getattr(party, "formal_name", party.display_name),
                        "profession": getattr(party, "profession_label", "") or "",
                        "rpps": getattr(party, "rpps", None), "adeli": getattr(party, "adeli", None),
                        "siret": getattr(party, "siret", None), "address": address or None, "email": party.email},
        "practice": ({"name": site.name, "address": site.address, "commune": site.commune} if site else None),
        "programme": {"name": programme.name, "description": programme.description or
                      f"Aide à l'acquisition de matériel ({application.equipment_kind}).",
                      "funders": ", ".join(f.name for f in programme.funders) or organisation.name,
                      "training": programme.training_label if programme.requires_training else None},
        "equipment": {"kind": application.equipment_kind, "model": application.equipment_model or "—",
                      "supplier": application.supplier or "—", "quoted_price": application.quoted_price},
        "grant": {"reference": application.reference, "amount": application.amount_granted,
                  "decided_on": application.decided_on, "number": number or "—"},
        "conditions": list(CONDITIONS), "place": organisation.city or "", "today": date.today(),
    }


def issue_agreement(application, *, task=None):
    """Render and keep a new version of the convention of an approved application (inside a job).

    The first issue moves the application to « Convention émise »; issuing again (a correction)
    supersedes the version in force and keeps the number. Refused once signed."""
    if application.status not in (S.APPROVED, S.AGREEMENT_ISSUED):
        raise GrantError(f"Pas de convention à émettre pour une demande « {application.status.label} ».")
    organisation = application.programme.organisation
    year = (application.decided_on or date.today()).year
    document = generated.request_document(organisation, AGREEMENT_KIND, application, task=task, year=year)
    data = render_document(organisation, AGREEMENT_KIND, agreement_context(application, document.number))
    document = generated.store_document(document, data, filename=f"convention-{application.reference.lower()}.docx",
                                        mimetype=DOCX_MIMETYPE, task=task)
    if application.status is S.APPROVED:
        move(application, S.AGREEMENT_ISSUED)
        _notify(application, S.AGREEMENT_ISSUED)
    db.session.flush()
    return document


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
