"""The documents of SISA remuneration, found by ``backoffice.documents.kinds`` (``DOCUMENT_KINDS``).

* ``sisa_certificate``: what an associate was paid in a calendar year (subject: his ``parties``
  row; numbered per year), for his accountant; built by ``certificate_context`` in the job
  ``jobs.sisa.certificates``; downloaded by ``sisa.view`` holders and by the associate himself.
* ``sisa_statement``: an associate's individual statement of a distribution version (subject:
  his ``sisa_distribution_shares`` row): his days, hours, points, each key's part, the total and
  how it was computed; numbered per year. Built by ``sisa.documents.statement_context`` in the
  job ``jobs.sisa.statements``; downloaded by ``sisa.view`` holders and by the associate himself.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from backoffice.documents.kinds import DocumentKind, Numbering

STATEMENT_KIND = "sisa_statement"
STATEMENT_VARIABLES = frozenset({
    "organisation",  # name, address (lines separated by "\n"), city, siren
    "logo",  # DocumentImage or None
    "associate",  # name, profession
    "distribution",  # year, version, scenario, distributable (Decimal), frozen_on (date), supersedes (int or None)
    "presence",  # days, hours (text "12,5"), points (text)
    "keys",  # [{label, percentage (text), basis, amount (Decimal: the key's total), share (Decimal: his)}]
    "total",  # Decimal: his amount
    "method",  # str: how it was computed
    "place", "issued_on",
})
METHOD = ("Chaque clé reçoit son pourcentage du montant à répartir ; la part de chaque associé dans une clé est "
          "proportionnelle à sa base (part égale, heures de coordination ou points de missions), multipliée par le "
          "poids de sa profession et, si la clé le prévoit, par ses jours de présence dans l'année. Les centimes sont "
          "arrondis au plus fort reste : la somme des parts est exactement le montant à répartir.")


def _sample_statement():
    return {
        "organisation": {"name": "SISA Pôle de Santé Libéral du Pays de Mayenne",
                         "address": "1 place de l'Europe\n53100 Mayenne", "city": "Mayenne", "siren": "798 765 434"},
        "logo": None,
        "associate": {"name": "Hélène BROCHARD", "profession": "Médecin généraliste"},
        "distribution": {"year": 2025, "version": 1, "scenario": "Règlement intérieur 2025",
                         "distributable": Decimal("88432.00"), "frozen_on": date(2026, 5, 12), "supersedes": None},
        "presence": {"days": 365, "hours": "21,5", "points": "3"},
        "keys": [{"label": "Part égale", "percentage": "30", "basis": "Part égale par associé",
                  "amount": Decimal("26529.60"), "share": Decimal("297.11")}],
        "total": Decimal("1523.40"), "method": METHOD, "place": "Mayenne", "issued_on": date(2026, 5, 12),
    }


CERTIFICATE_KIND = "sisa_certificate"
CERTIFICATE_VARIABLES = frozenset({
    "organisation", "logo",
    "associate",  # name, profession, rpps
    "year",  # int: the calendar year of the payments
    "payments",  # [{year (of the ACI), version, paid_on (date), amount (Decimal)}]
    "total",  # Decimal
    "place", "issued_on",
})


def _sample_certificate():
    return {
        "organisation": {"name": "SISA Pôle de Santé Libéral du Pays de Mayenne",
                         "address": "1 place de l'Europe\n53100 Mayenne", "city": "Mayenne", "siren": "798 765 434"},
        "logo": None,
        "associate": {"name": "Hélène BROCHARD", "profession": "Médecin généraliste", "rpps": "10003456789"},
        "year": 2026,
        "payments": [{"year": 2025, "version": 1, "paid_on": date(2026, 5, 20), "amount": Decimal("1523.40")}],
        "total": Decimal("1523.40"), "place": "Mayenne", "issued_on": date(2027, 1, 15),
    }


def certificate_context(organisation, party, year, payments):
    """``payments``: ``[(distribution, amount)]`` paid to ``party`` in calendar ``year``."""
    from backoffice.documents.services import organisation_context

    rows = [{"year": d.year, "version": d.version, "paid_on": d.paid_on, "amount": amount} for d, amount in payments]
    return {
        "organisation": organisation_context(organisation), "logo": None,
        "associate": {"name": party.display_name, "profession": getattr(party, "profession_label", "") or "",
                      "rpps": getattr(party, "rpps", None) or ""},
        "year": year, "payments": rows, "total": sum((r["amount"] for r in rows), Decimal(0)),
        "place": organisation.city or "", "issued_on": date.today(),
    }


def _associate_owns_certificate(user, document):
    return getattr(user, "party_id", None) is not None and document.subject_type == "parties" \
        and document.subject_id == user.party_id


def _associate_owns_statement(user, document):
    """An associate downloads his own statements."""
    if getattr(user, "party_id", None) is None or document.subject_type != "sisa_distribution_shares":
        return False
    from backoffice.extensions import db
    from backoffice.sisa.models import SisaDistributionShare

    share = db.session.get(SisaDistributionShare, document.subject_id)
    return share is not None and share.party_id == user.party_id


def statement_context(organisation, distribution, share, party):
    from backoffice.documents.services import organisation_context
    from backoffice.sisa.models import KeyBasis

    keys = {str(k["position"]): k for k in distribution.inputs["keys"]}
    totals = {}
    for other in distribution.shares:
        for position, amount in other.detail["keys"].items():
            totals[position] = totals.get(position, Decimal(0)) + Decimal(amount)
    detail = share.detail
    return {
        "organisation": organisation_context(organisation), "logo": None,
        "associate": {"name": party.display_name, "profession": getattr(party, "profession_label", "")},
        "distribution": {"year": distribution.year, "version": distribution.version,
                         "scenario": distribution.scenario_name, "distributable": distribution.distributable,
                         "frozen_on": (distribution.frozen_at.date() if distribution.frozen_at else date.today()),
                         "supersedes": distribution.supersedes.version if distribution.supersedes else None},
        "presence": {"days": detail["days"], "hours": detail["hours"].replace(".", ","),
                     "points": detail["points"].replace(".", ",")},
        "keys": [{"label": keys[p]["label"], "percentage": keys[p]["percentage"].replace(".", ","),
                  "basis": KeyBasis(keys[p]["basis"]).label + (", au prorata des jours de présence"
                                                               if keys[p]["prorate_presence"] else ""),
                  "amount": totals[p], "share": Decimal(amount)} for p, amount in sorted(detail["keys"].items())],
        "total": share.amount, "method": METHOD, "place": organisation.city or "", "issued_on": date.today(),
    }


DOCUMENT_KINDS = [
    DocumentKind(key=STATEMENT_KIND, label="Relevé individuel de répartition",
                 description="Remis à chaque associé : ses heures, ses missions, la part de chaque clé et son total.",
                 variables=STATEMENT_VARIABLES, sample_context=_sample_statement, numbering=Numbering(per_year=True),
                 download_permission="sisa.view", may_download=_associate_owns_statement),
    DocumentKind(key=CERTIFICATE_KIND, label="Attestation annuelle des sommes versées",
                 description="Remise à chaque associé pour son expert-comptable : ce que la société lui a versé "
                             "dans l'année civile.",
                 variables=CERTIFICATE_VARIABLES, sample_context=_sample_certificate,
                 numbering=Numbering(per_year=True), download_permission="sisa.view",
                 may_download=_associate_owns_certificate),
]
