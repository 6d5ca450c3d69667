"""The settings of the books: chart of accounts, journals, posting rules and payment methods.
Part of the accounting services (``backoffice.accounting.services`` re-exports it)."""
from __future__ import annotations


from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError

from backoffice.accounting import rules
from backoffice.accounting.books import _clean_text, ensure_ledger, get_account, get_journal
from backoffice.accounting.errors import AccountingError
from backoffice.accounting.models import (
    Account,
    AuxiliaryAccount,
    Journal,
    JournalKind,
    JournalLine,
    PaymentMethodRule,
    PostingRule,
)
from backoffice.extensions import db


# --------------------------------------------------------------------------------------------
# Chart of accounts, journals, posting rules (settings)
# --------------------------------------------------------------------------------------------

def _account_in_use(account):
    return db.session.scalar(select(exists().where(JournalLine.account_id == account.id)))


def _account_in_rules(account):
    return db.session.scalar(select(exists().where(
        (PostingRule.debit_account_id == account.id) | (PostingRule.credit_account_id == account.id)))) or \
        db.session.scalar(select(exists().where(PaymentMethodRule.account_id == account.id)))


def add_account(organisation, number, label, collective=False):
    ensure_ledger(organisation)
    number = str(number or "").strip()
    if not number.isdigit() or not 3 <= len(number) <= 12 or number[0] not in "12345678":
        raise AccountingError("Le numéro de compte compte de 3 à 12 chiffres et commence par la classe (1 à 8).",
                              "number")
    label = _clean_text(label, "Le libellé du compte", 200, "label")
    if db.session.scalar(select(Account.id).where(Account.organisation_id == organisation.id,
                                                  Account.number == number)):
        raise AccountingError(f"Le compte {number} existe déjà.", "number")
    account = Account(organisation_id=organisation.id, number=number, label=label, collective=bool(collective))
    db.session.add(account)
    db.session.flush()
    return account


def update_account(account, label, collective=None, active=None):
    """Rename an account; change whether it is collective (only while it has no line);
    (de)activate it (not while a posting rule uses it)."""
    account.label = _clean_text(label, "Le libellé du compte", 200, "label")
    if collective is not None and bool(collective) != account.collective:
        if _account_in_use(account):
            raise AccountingError(f"Le compte {account.number} a déjà des écritures : il ne peut pas changer "
                                  "de nature (collectif ou non).", "collective")
        account.collective = bool(collective)
    if active is not None and bool(active) != account.active:
        if not active and _account_in_rules(account):
            raise AccountingError(f"Le compte {account.number} est utilisé par une règle de comptabilisation : "
                                  "modifiez d'abord la règle.", "active")
        account.active = bool(active)
    db.session.flush()
    return account


def delete_account(account):
    """Delete an account that was never used; one with lines can only be deactivated."""
    if _account_in_use(account):
        raise AccountingError(f"Le compte {account.number} a des écritures : il ne peut pas être supprimé, "
                              "seulement désactivé.")
    if _account_in_rules(account):
        raise AccountingError(f"Le compte {account.number} est utilisé par une règle de comptabilisation.")
    db.session.execute(delete(AuxiliaryAccount).where(AuxiliaryAccount.account_id == account.id))
    db.session.delete(account)
    db.session.flush()


def add_journal(organisation, code, label, kind=JournalKind.MISC.value):
    ensure_ledger(organisation)
    code = str(code or "").strip().upper()
    if not code.isalnum() or not code.isascii() or not 1 <= len(code) <= 8:
        raise AccountingError("Le code journal compte de 1 à 8 lettres ou chiffres.", "code")
    if db.session.scalar(select(Journal.id).where(Journal.organisation_id == organisation.id, Journal.code == code)):
        raise AccountingError(f"Le journal {code} existe déjà.", "code")
    if kind not in {k.value for k in JournalKind}:
        raise AccountingError("Type de journal inconnu.", "kind")
    journal = Journal(organisation_id=organisation.id, code=code,
                      label=_clean_text(label, "Le libellé du journal", 100, "label"), kind=kind)
    db.session.add(journal)
    db.session.flush()
    return journal


def update_journal(journal, label, active=None):
    journal.label = _clean_text(label, "Le libellé du journal", 100, "label")
    if active is not None and bool(active) != journal.active:
        if not active and (
            db.session.scalar(select(exists().where(PostingRule.journal_id == journal.id)))
            or db.session.scalar(select(exists().where(PaymentMethodRule.journal_id == journal.id)))
        ):
            raise AccountingError(f"Le journal {journal.code} est utilisé par une règle de comptabilisation.",
                                  "active")
        journal.active = bool(active)
    db.session.flush()
    return journal


def _rules_by(organisation, model, key):
    """The organisation's rules of ``model`` by their ``key`` attribute (the books set up first)."""
    ensure_ledger(organisation)
    return {getattr(rule, key): rule for rule in db.session.scalars(
        select(model).where(model.organisation_id == organisation.id))}


def posting_rules(organisation):
    """``[(EventSpec, PostingRule)]`` in the order of ``rules.EVENTS``."""
    by_event = _rules_by(organisation, PostingRule, "event")
    result = []
    for name, spec in rules.EVENTS.items():
        rule = by_event.get(name) or _default_rule(organisation, name)
        result.append((spec, rule))
    return result


def _default_rule(organisation, event):
    """The rule of an event added to ``rules.EVENTS`` after the organisation's books were set
    up, from its chart's defaults; an account or journal it no longer has (or has deactivated)
    stays empty, for the settings page to complete. Safe when two transactions create it at once."""
    chart = ensure_ledger(organisation).chart
    debit, credit, journal_code = rules.DEFAULT_RULES.get(chart, {}).get(event, (None, None, None))

    def account_id(number):
        return number and db.session.scalar(select(Account.id).where(
            Account.organisation_id == organisation.id, Account.number == number, Account.active.is_(True)))

    journal_id = journal_code and db.session.scalar(select(Journal.id).where(
        Journal.organisation_id == organisation.id, Journal.code == journal_code, Journal.active.is_(True)))
    try:
        with db.session.begin_nested():
            rule = PostingRule(organisation_id=organisation.id, event=event, debit_account_id=account_id(debit),
                               credit_account_id=account_id(credit), journal_id=journal_id)
            db.session.add(rule)
    except IntegrityError:  # created meanwhile by a concurrent transaction
        rule = db.session.scalar(select(PostingRule).where(PostingRule.organisation_id == organisation.id,
                                                           PostingRule.event == event))
    return rule


def payment_method_rules(organisation):
    by_method = _rules_by(organisation, PaymentMethodRule, "method")
    return [(method, label, by_method.get(method)) for method, label in rules.PAYMENT_METHODS.items()]


def update_posting_rule(organisation, event, debit_account=None, credit_account=None, journal=None):
    """Set the accounts (numbers) and journal (code) of ``event``; the treasury side and the
    journal of treasury events come from the payment method and are ignored. The party's side
    must be a collective account, the other side must not."""
    spec = rules.EVENTS.get(event)
    if spec is None:
        raise AccountingError(f"Événement comptable inconnu : « {event} ».", "event")
    rule = dict((s.name, r) for s, r in posting_rules(organisation))[event]
    for side, number in (("debit", debit_account), ("credit", credit_account)):
        if spec.treasury_side == side:
            continue
        account = get_account(organisation, number)
        if spec.party_side == side and not account.collective:
            raise AccountingError(f"{spec.label} : le compte {'débité' if side == 'debit' else 'crédité'} porte le "
                                  f"tiers ; choisissez un compte collectif (411, 467…), pas {account.number}.",
                                  f"{event}-{side}")
        if spec.party_side != side and account.collective:
            raise AccountingError(f"{spec.label} : le compte {account.number} est collectif ; il demande un tiers "
                                  "que cet événement ne porte pas de ce côté.", f"{event}-{side}")
        setattr(rule, f"{side}_account_id", account.id)
    if spec.treasury_side is None:
        rule.journal_id = get_journal(organisation, journal).id
    db.session.flush()
    return rule


def update_payment_method(organisation, method, account_number, journal_code):
    if method not in rules.PAYMENT_METHODS:
        raise AccountingError(f"Moyen de paiement inconnu : « {method} ».", "method")
    account = get_account(organisation, account_number)
    if account.collective or account.account_class != "5":
        raise AccountingError(f"{rules.PAYMENT_METHODS[method]} : choisissez un compte financier de classe 5 "
                              f"(512, 5112, 530…), pas {account.number}.", f"method-{method}")
    journal = get_journal(organisation, journal_code)
    rule = db.session.scalar(select(PaymentMethodRule).where(
        PaymentMethodRule.organisation_id == organisation.id, PaymentMethodRule.method == method))
    if rule is None:
        rule = PaymentMethodRule(organisation_id=organisation.id, method=method, account_id=account.id,
                                 journal_id=journal.id)
        db.session.add(rule)
    else:
        rule.account_id, rule.journal_id = account.id, journal.id
    db.session.flush()
    return rule


def collective_numbers(organisation):
    return tuple(db.session.scalars(select(Account.number).where(
        Account.organisation_id == organisation.id, Account.collective.is_(True))))
