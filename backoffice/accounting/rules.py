"""Events other modules post, their default accounts and journals, and the charts they load.

An event is a two-line entry (a debit and a credit of the same amount), or, shared among several
parties, one line per party on the party's side and one line for the total on the other (a SISA
distribution: D 62261 the total / C 4551 each associate). Its *shape* is fixed here (which side
names the party, which side is money going through the treasury);
the accounts and journal are the organisation's settings (``PostingRule``), filled from the
defaults below when the books are set up.

Choices worth knowing (accountants can change every account on the settings page):

* ``fee_due`` D 411 (the member's auxiliary account) / C 756 *Cotisations*; ``fee_paid`` D the
  treasury account of the payment method / C 411; ``fee_refund`` the reverse of ``fee_paid``.
* Treasury by payment method: transfer, card and direct debit → 512 in BQ; cheque → 5112
  *Chèques à encaisser* in BQ (the deposit slip then moves 5112 to 512); cash → 530 in CA;
  HelloAsso → 517 *plateformes de paiement* in BQ (its payout then moves 517 to 512).
* ``cheques_deposited`` D 512 / C 5112 in BQ: one entry per deposit slip for its total, which
  is the one line the bank statement shows. Both sides are plain accounts of the rule (not the
  treasury of a payment method): an accountant who moves cheques to another account than 5112
  on the payment-method table changes this rule's credit account too.
* ``grant_committed`` D 6571 *Aides financières et subventions versées* / C 467 (the
  beneficiary); ``grant_paid`` D 467 / C treasury.
* ``subsidy_received`` D treasury / C 741 *Subventions d'exploitation – État* (ARS, FIR).
* ``aci_income``: the ACI remuneration paid by the Assurance Maladie is the counterpart of
  commitments written in a contract (missions, indicators), not a discretionary grant: it is
  recorded as turnover, 706 *Prestations de services* (a sub-account 7061 in the SISA's chart),
  not in 74. An accountant who prefers 74 changes the rule.
* ``sisa_distribution``: the SISA is fiscally transparent and the shares it pays its associates
  for their coordination work are, in common practice, *rétrocessions* recorded as a charge
  (62261 *Rétrocessions aux associés*, under 6226 *Honoraires*) against the associate's
  current account 4551 (auxiliary account per associate); ``sisa_distribution_paid`` then
  debits 4551 against the bank. Each associate declares the share in their own BNC.
* ``device_purchased`` D 2154 *Matériel* / C 404 *Fournisseurs d'immobilisations* (the supplier's
  auxiliary account): equipment an in-kind programme buys and lends stays the organisation's
  asset; ``device_paid`` D 404 / C treasury; ``device_depreciation`` D 6811 *Dotations aux
  amortissements* / C 28154 *Amortissements du matériel*, at each year-end.
* ``device_disposed`` D 675 *Valeurs comptables des éléments d'actif cédés* / C 2154: a device
  retired (broken, lost, given away) leaves the books in one entry, the *sortie d'immobilisation*:
  D 28154 (its accumulated depreciation, the credit account of ``device_depreciation``) /
  D 675 (its net book value) / C 2154 (its cost). The rule gives the net-value and cost
  accounts; the depreciation account is read from ``device_depreciation``'s, so that an
  accountant who changes one does not get the two out of step.
* ``bank_fees`` D 627 *Services bancaires* / C treasury.
* ``dedicated_funds_carried`` D 6894 *Reports en fonds dédiés sur subventions d'exploitation* /
  C 194 *Fonds dédiés sur subventions d'exploitation* (ANC 2018-06: the part of a funding
  received for a programme and not used by the year-end, carried), then
  ``dedicated_funds_used`` D 194 / C 7894 *Utilisations des fonds dédiés* the year it is used.
  The general chart (a SISA) has no fonds dédiés: an unused operating subsidy is deferred as
  *produits constatés d'avance* instead, D 741 / C 487, then D 487 / C 741.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass

TREASURY = "treasury"

PAYMENT_METHODS = {
    "transfer": "Virement",
    "cheque": "Chèque",
    "cash": "Espèces",
    "card": "Carte bancaire",
    "direct_debit": "Prélèvement SEPA",
    "helloasso": "HelloAsso",
}


@dataclass(frozen=True)
class EventSpec:
    name: str
    label: str
    # TREASURY on one side: that side's account and the journal come from the payment method.
    treasury_side: str | None      # "debit" | "credit" | None
    party_side: str | None         # "debit" | "credit" | None: the side carrying the party's aux account
    requires_payment_method: bool = False

    @property
    def needs_party(self):
        return self.party_side is not None


EVENTS = {
    spec.name: spec
    for spec in (
        EventSpec("fee_due", "Cotisation appelée", None, "debit"),
        EventSpec("fee_paid", "Cotisation encaissée", "debit", "credit", requires_payment_method=True),
        EventSpec("fee_refund", "Cotisation remboursée", "credit", "debit", requires_payment_method=True),
        EventSpec("cheques_deposited", "Remise de chèques en banque", None, None),
        EventSpec("grant_committed", "Aide attribuée", None, "credit"),
        EventSpec("grant_paid", "Aide versée", "credit", "debit"),
        EventSpec("subsidy_received", "Subvention reçue", "debit", None),
        EventSpec("aci_income", "Rémunération ACI reçue", "debit", None),
        EventSpec("sisa_distribution", "Rémunération due à un associé (répartition ACI)", None, "credit"),
        EventSpec("sisa_distribution_paid", "Rémunération versée à un associé", "credit", "debit"),
        EventSpec("bank_fees", "Frais bancaires", "credit", None),
        EventSpec("dedicated_funds_carried", "Report en fonds dédiés (financement non utilisé)", None, None),
        EventSpec("dedicated_funds_used", "Utilisation des fonds dédiés", None, None),
        EventSpec("device_purchased", "Matériel acheté (immobilisation)", None, "credit"),
        EventSpec("device_paid", "Matériel payé au fournisseur", "credit", "debit"),
        EventSpec("device_depreciation", "Dotation aux amortissements du matériel", None, None),
        EventSpec("device_disposed", "Matériel sorti de l'actif (valeur nette comptable)", None, None),
    )
}

DEFAULT_PAYMENT_METHOD = "transfer"

#: The ``event`` of the entries that are no business event: the opening balances (AN) of a fiscal
#: year and the allocation of a year's result (``backoffice.accounting.opening``).
OPENING_EVENT = "opening"
ALLOCATION_EVENT = "result_allocation"
#: The closing's reclassification of members in credit (411 → 419), reversed at the next opening.
MEMBER_CREDITS_EVENT = "member_credits"

#: Default accounts of each event per chart: (debit, credit, journal); None where the
#: treasury decides.
DEFAULT_RULES = {
    "pca_2025": {
        "fee_due": ("411", "756", "OD"),
        "fee_paid": (None, "411", None),
        "fee_refund": ("411", None, None),
        "cheques_deposited": ("512", "5112", "BQ"),
        "grant_committed": ("6571", "467", "OD"),
        "grant_paid": ("467", None, None),
        "subsidy_received": (None, "741", None),
        "aci_income": (None, "706", None),
        "sisa_distribution": ("6226", "467", "OD"),
        "sisa_distribution_paid": ("467", None, None),
        "bank_fees": ("627", None, None),
        "dedicated_funds_carried": ("6894", "194", "OD"),
        "dedicated_funds_used": ("194", "7894", "OD"),
        "device_purchased": ("2154", "404", "OD"),
        "device_paid": ("404", None, None),
        "device_depreciation": ("6811", "28154", "OD"),
        "device_disposed": ("675", "2154", "OD"),
    },
    "pcg": {
        "fee_due": ("411", "706", "OD"),
        "fee_paid": (None, "411", None),
        "fee_refund": ("411", None, None),
        "cheques_deposited": ("512", "5112", "BQ"),
        "grant_committed": ("658", "467", "OD"),
        "grant_paid": ("467", None, None),
        "subsidy_received": (None, "741", None),
        "aci_income": (None, "7061", None),
        "sisa_distribution": ("62261", "4551", "OD"),
        "sisa_distribution_paid": ("4551", None, None),
        "bank_fees": ("627", None, None),
        "dedicated_funds_carried": ("741", "487", "OD"),
        "dedicated_funds_used": ("487", "741", "OD"),
        "device_purchased": ("2154", "404", "OD"),
        "device_paid": ("404", None, None),
        "device_depreciation": ("6811", "28154", "OD"),
        "device_disposed": ("675", "2154", "OD"),
    },
}

#: Payment method → (account, journal), the same in both charts.
DEFAULT_PAYMENT_RULES = {
    "transfer": ("512", "BQ"),
    "card": ("512", "BQ"),
    "direct_debit": ("512", "BQ"),
    "cheque": ("5112", "BQ"),
    "cash": ("530", "CA"),
    # HelloAsso's payout, one transfer for many members, moves 517 to 512 from the statement.
    "helloasso": ("517", "BQ"),
}

DEFAULT_JOURNALS = (
    ("BQ", "Banque", "bank"),
    ("CA", "Caisse", "cash"),
    ("OD", "Opérations diverses", "misc"),
    ("AN", "À-nouveaux", "opening"),
)

CHARTS = {
    "pca_2025": "Plan comptable des associations (règlement ANC n° 2018-06 modifié, version 2025)",
    "pcg": "Plan comptable général (sociétés, dont SISA)",
}

#: Prefix of the auxiliary account numbers, per collective account root.
AUX_PREFIXES = {"401": "F", "404": "F", "411": "A", "419": "A", "421": "P", "455": "S", "457": "S", "467": "T"}


def chart_for(organisation):
    """The chart an organisation's books start from: associations (CPTS…) use the plan
    comptable des associations, a SISA (a company) the general chart."""
    return "pca_2025" if organisation.kind.is_association else "pcg"


def chart_rows(chart):
    """``(number, label, collective)`` of the chart's data file."""
    path = os.path.join(os.path.dirname(__file__), "charts", f"{chart}.csv")
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            yield row["number"].strip(), row["label"].strip(), row["collective"].strip() == "1"
