"""The documents of membership, found by ``backoffice.documents.kinds`` (``DOCUMENT_KINDS``).

* ``membership_receipt``: the *attestation d'adhésion* of a paid membership (subject: the
  membership), numbered per year (``2026-0042``); built by ``membership.receipts``.
* ``cheque_deposit_slip``: the *bordereau de remise de chèques* (subject: the deposit),
  numbered 1, 2, 3… (``0003``); built by ``membership.deposits``.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from backoffice.documents import samples
from backoffice.documents.kinds import DocumentKind, Numbering

RECEIPT_KIND = "membership_receipt"
DEPOSIT_SLIP_KIND = "cheque_deposit_slip"

CHEQUE_DEPOSIT_SLIP_VARIABLES = frozenset({
    "organisation",  # name, address (lines separated by "\n"), city, siren
    "logo",  # DocumentImage or None
    "account",  # iban (printed in groups of 4), bic
    "deposit",  # number, date, count, total (Decimal)
    "cheques",  # [{position, number, bank, drawer, date, amount}]
    "place",  # the organisation's city
    "depositor",  # who signs: the treasurer, else the organisation
})


def _sample_deposit_slip():
    cheques = [{"position": 1, "number": "0012345", "bank": "Crédit Mutuel", "drawer": "Anne LE FLOCH",
                "date": date(2026, 2, 2), "amount": Decimal("50.00")},
               {"position": 2, "number": "7654321", "bank": "CIC", "drawer": "SELAS Pharmacie des Marais",
                "date": date(2026, 2, 3), "amount": Decimal("100.00")}]
    return {
        "organisation": {"name": "CPTS du Pays Blanc", "address": "12 rue de la Poste\n44350 Guérande",
                         "city": "Guérande", "siren": "812 345 676"},
        "logo": None,
        "account": {"iban": "FR76 3000 4000 0312 3456 7890 143", "bic": "BNPAFRPPXXX"},
        "deposit": {"number": 3, "date": date(2026, 2, 5), "count": 2, "total": Decimal("150.00")},
        "cheques": cheques, "place": "Guérande", "depositor": "Claire MORVAN",
    }


def _member_owns_receipt(user, document):
    """A member downloads the receipt of his own membership."""
    return getattr(user, "party_id", None) is not None and document.subject_type == "memberships" and (
        _membership_party_id(document.subject_id) == user.party_id)


def _membership_party_id(membership_id):
    from backoffice.extensions import db
    from backoffice.membership.models import Membership

    membership = db.session.get(Membership, membership_id)
    return membership.party_id if membership is not None else None


DOCUMENT_KINDS = [
    DocumentKind(key=RECEIPT_KIND, label="Attestation d'adhésion",
                 description="Remise à l'adhérent quand sa cotisation est réglée.",
                 variables=samples.MEMBERSHIP_RECEIPT_VARIABLES, sample_context=samples.membership_receipt_context,
                 numbering=Numbering(per_year=True), download_permission="membership.view",
                 may_download=_member_owns_receipt),
    DocumentKind(key=DEPOSIT_SLIP_KIND, label="Bordereau de remise de chèques",
                 description="Liste des chèques de cotisation remis à la banque, avec le total en chiffres et en lettres.",
                 variables=CHEQUE_DEPOSIT_SLIP_VARIABLES, sample_context=_sample_deposit_slip,
                 numbering=Numbering(), download_permission="membership.manage"),
]
