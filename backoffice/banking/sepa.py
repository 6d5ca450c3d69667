"""SEPA files with sepaxml, validated against the XSDs it ships: pain.008 (direct debit, money
in) and pain.001 (credit transfer, money out), from one of the organisation's bank accounts.

Amounts are ``Decimal`` euros turned into whole cents exactly (``to_cents``): an amount that
is not a whole number of cents, zero or negative is refused, never rounded. sepaxml raises
bare ``Exception``s in English: they are logged and the user reads a French ``BankingError``.
"""
import logging
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from stdnum.eu import at_02
from stdnum.exceptions import InvalidChecksum, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError

from backoffice.banking.errors import BankingError
from backoffice.validation import ValidationError, clean_bic, clean_iban

log = logging.getLogger(__name__)

DIRECT_DEBIT_SCHEMA = "pain.008.001.02"
CREDIT_TRANSFER_SCHEMA = "pain.001.001.03"
# Country, check digits, business code, national identifier: what an ICS looks like.
ICS_SHAPE = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{3}[A-Z0-9]{1,28}$")
# What the SEPA character set allows in identifiers (end-to-end id, mandate reference).
SEPA_ID = re.compile(r"^[A-Za-z0-9+?/:().,' -]{1,35}$")


def clean_creditor_identifier(value):
    """A SEPA creditor identifier (ICS, e.g. ``FR72ZZZ123456``), compact and upper-cased, its
    check digits verified by python-stdnum (``stdnum.eu.at_02``); ``BankingError`` otherwise."""
    shape = at_02.compact(value or "")
    if not ICS_SHAPE.match(shape):
        raise BankingError("Identifiant créancier SEPA (ICS) invalide : il ressemble à FR12ZZZ123456.",
                           field="creditor_identifier")
    try:
        ics = at_02.validate(shape)
    except InvalidChecksum:
        raise BankingError("Identifiant créancier SEPA (ICS) invalide : la clé de contrôle ne correspond pas.",
                           field="creditor_identifier") from None
    except (InvalidLength, StdnumError):
        raise BankingError("Identifiant créancier SEPA (ICS) invalide : il ressemble à FR12ZZZ123456.",
                           field="creditor_identifier") from None
    if ics.startswith("FR") and len(ics) != 13:
        raise BankingError("Un ICS français compte 13 caractères (FR, 2 chiffres, 3 caractères, 6 caractères).",
                           field="creditor_identifier")
    return ics


def to_cents(amount):
    """``Decimal('1234.50')`` → ``123450``: whole cents, exactly; refuses anything else."""
    try:
        value = Decimal(str(amount)) if not isinstance(amount, Decimal) else amount
        cents = value * 100
        exact = value.is_finite() and cents == cents.to_integral_value()
    except (InvalidOperation, ValueError):
        exact = False
    if not exact:
        raise BankingError(f"Montant invalide pour un virement ou un prélèvement : « {amount} ».")
    if cents <= 0:
        raise BankingError("Un virement ou un prélèvement doit être d'un montant positif.")
    return int(cents)


def _ascii(text):
    from text_unidecode import unidecode

    return unidecode(text or "")


def _check_party(name, iban, bic, who):
    """IBAN and BIC of ``who`` (in French, for the message) cleaned, or ``BankingError``."""
    if not iban:
        raise BankingError(f"IBAN manquant pour {who}.")
    try:
        return clean_iban(iban), clean_bic(bic) if bic else None
    except ValidationError as exc:
        raise BankingError(f"{exc} ({who})") from None


def _sepa_id(value, what):
    value = (value or "").strip()
    if not SEPA_ID.match(value):
        raise BankingError(f"{what} « {value} » invalide : 35 caractères au plus, lettres, chiffres, espaces "
                           "et + ? / - : ( ) . , '")
    return value


def _export(document, what):
    try:
        return document.export(validate=True, pretty_print=True)
    except Exception:  # noqa: BLE001  (sepaxml raises bare Exceptions, lxml its own errors)
        log.exception("SEPA file refused by its schema")
        raise BankingError(f"Le fichier de {what} n'a pas pu être produit : une donnée ne respecte pas la norme "
                           "SEPA (noms, références, IBAN). Vérifiez-les ou contactez l'assistance.") from None


def _account_config(bank_account, organisation_name):
    iban, bic = _check_party(organisation_name, bank_account.iban, bank_account.bic,
                             f"le compte « {bank_account.name} »")
    config = {"name": _ascii(organisation_name)[:70], "IBAN": iban, "batch": True, "currency": "EUR"}
    if bic:
        config["BIC"] = bic
    return config


# --------------------------------------------------------------------------------------------
# pain.008: direct debit
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DirectDebit:
    """One debit of a collection: the debtor's mandate and what is collected."""

    debtor_name: str
    iban: str
    bic: str | None
    amount: Decimal
    mandate_reference: str
    mandate_signed_on: date
    sequence: str          # "FRST" for a mandate's first collection, then "RCUR"
    description: str
    end_to_end_id: str


def direct_debit_file(bank_account, creditor_identifier, debits, collection_date):
    """The pain.008.001.02 XML (bytes) collecting ``debits`` into ``bank_account`` on
    ``collection_date``; the creditor identifier is checked first. ``BankingError`` otherwise."""
    from sepaxml import SepaDD

    ics = clean_creditor_identifier(creditor_identifier)
    config = _account_config(bank_account, bank_account.organisation.name)
    if "BIC" not in config:
        raise BankingError(f"Renseignez le BIC du compte « {bank_account.name} » pour prélever.")
    config.update({"creditor_id": ics, "instrument": "CORE"})
    document = SepaDD(config, schema=DIRECT_DEBIT_SCHEMA, clean=True)
    debits = list(debits)
    if not debits:
        raise BankingError("Aucun prélèvement à mettre dans le fichier.")
    for debit in debits:
        iban, bic = _check_party(debit.debtor_name, debit.iban, debit.bic, debit.debtor_name)
        payment = {
            "name": debit.debtor_name, "IBAN": iban, "amount": to_cents(debit.amount), "type": debit.sequence,
            "collection_date": collection_date, "mandate_id": _sepa_id(debit.mandate_reference, "Référence de mandat"),
            "mandate_date": debit.mandate_signed_on, "description": debit.description,
            "endtoend_id": _sepa_id(debit.end_to_end_id, "Référence de bout en bout"),
        }
        if bic:
            payment["BIC"] = bic
        document.add_payment(payment)
    return _export(document, "prélèvement")


# --------------------------------------------------------------------------------------------
# pain.001: credit transfer
# --------------------------------------------------------------------------------------------

def credit_transfer_file(bank_account, payments, execution_date):
    """The pain.001.001.03 XML (bytes) paying from ``bank_account`` on ``execution_date``.

    ``payments``: ``(payee_details, amount, end_to_end_id, remittance_text)`` tuples, where
    ``payee_details`` is a ``PayeeBankDetails`` (or anything with ``holder_name``, ``iban``,
    ``bic``), ``amount`` a positive ``Decimal`` of whole cents, ``end_to_end_id`` the reference
    the payee's bank passes on (35 characters of the SEPA set) and ``remittance_text`` what the
    payee reads (140 characters, unstructured). The file's control sum is the exact sum of the
    amounts. Raises ``BankingError`` naming the payee whose details or amount are wrong.
    """
    from sepaxml import SepaTransfer

    payments = list(payments)
    if not payments:
        raise BankingError("Aucun virement à mettre dans le fichier.")
    if execution_date is None:
        raise BankingError("Indiquez la date d'exécution des virements.")
    document = SepaTransfer(_account_config(bank_account, bank_account.organisation.name),
                            schema=CREDIT_TRANSFER_SCHEMA, clean=True)
    seen = set()
    for payee, amount, end_to_end_id, remittance in payments:
        holder = (payee.holder_name or "").strip()
        if not holder:
            raise BankingError("Le nom du titulaire du compte du bénéficiaire est obligatoire.")
        iban, bic = _check_party(holder, payee.iban, payee.bic, holder)
        end_to_end_id = _sepa_id(end_to_end_id, "Référence de bout en bout")
        if end_to_end_id in seen:
            raise BankingError(f"Deux virements ont la même référence « {end_to_end_id} ».")
        seen.add(end_to_end_id)
        try:
            cents = to_cents(amount)
        except BankingError as exc:
            raise BankingError(f"{exc} ({holder})") from None
        payment = {"name": holder, "IBAN": iban, "amount": cents, "execution_date": execution_date,
                   "description": (remittance or "").strip() or end_to_end_id, "endtoend_id": end_to_end_id}
        if bic:
            payment["BIC"] = bic
        document.add_payment(payment)
    return _export(document, "virements")
