"""The convention de mise à disposition: a device of an in-kind programme lent to a practice.

One lineage of the durable document ``grant_custody`` per custody (holder): issuing it again
(a correction) keeps the number and supersedes the version in force, never overwrites it; each
version keeps its fingerprint. Rendered inside a job (``jobs.grants.grant_custody``), with the
organisation's own template when it uploaded one.
"""
from __future__ import annotations

from datetime import date

from backoffice.documents import generated
from backoffice.documents.services import DOCX_MIMETYPE, organisation_context, render_document
from backoffice.extensions import db
from backoffice.grants.documents import CUSTODY_CONDITIONS, CUSTODY_KIND
from backoffice.grants.services import GrantError


def _previous(custody):
    earlier = [c for c in custody.device.custodies if c.id != custody.id and c.ended_on is not None
               and c.started_on <= custody.started_on and c.end_reason == "transferred"]
    return earlier[-1] if earlier else None


def custody_context(custody, number=None) -> dict:
    """The variables of ``grant_custody`` (``backoffice.grants.documents``) for ``custody``."""
    from backoffice.grants.agreements import agreement_context

    device, application, site = custody.device, custody.application, custody.site
    organisation = device.programme.organisation
    # The parties, the president and the beneficiary's identifiers are the attribution convention's.
    base = agreement_context(application)
    previous = _previous(custody)
    return {
        "organisation": organisation_context(organisation), "president": base["president"],
        "beneficiary": base["beneficiary"],
        "practice": ({"name": site.name, "address": site.address, "commune": site.commune} if site else None),
        "programme": {"name": device.programme.name, "funders": base["programme"]["funders"],
                      "description": device.programme.description or
                      f"Mise à disposition de matériel ({device.equipment_kind})."},
        "device": {"kind": device.equipment_kind, "model": device.equipment_model or "—",
                   "serial_number": device.serial_number, "purchased_on": device.purchased_on,
                   "value": device.purchase_amount},
        "custody": {"number": number or "—", "started_on": custody.started_on,
                    "previous": (previous.site.name if previous and previous.site else
                                 previous.application.applicant.display_name if previous else None),
                    "reference": application.reference},
        "conditions": list(CUSTODY_CONDITIONS), "place": organisation.city or "", "today": date.today(),
    }


def issue_custody_agreement(custody, *, task=None):
    """Render and keep a new version of the custody convention (inside a job); refused once
    the custody has ended (the device was returned or went elsewhere)."""
    if custody.ended_on is not None:
        raise GrantError("Cette mise à disposition est terminée : pas de convention à émettre.")
    organisation = custody.device.programme.organisation
    document = generated.request_document(organisation, CUSTODY_KIND, custody, task=task,
                                          year=custody.started_on.year)
    data = render_document(organisation, CUSTODY_KIND, custody_context(custody, document.number))
    document = generated.store_document(
        document, data, filename=f"mise-a-disposition-{custody.device.serial_number.lower()}-{custody.id}.docx",
        mimetype=DOCX_MIMETYPE, task=task)
    db.session.flush()
    return document


def current_custody_agreement(custody):
    return generated.current_document(custody.device.programme.organisation, CUSTODY_KIND, custody)


def custody_agreement_versions(custody):
    return generated.versions(custody.device.programme.organisation, CUSTODY_KIND, custody)
