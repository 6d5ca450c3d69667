"""Every route, with every role: who may use it, who is sent to sign in, who is refused.

The table below is the second opinion on ``PERMISSIONS``: write the roles out
explicitly; don't compute them from ``PERMISSIONS`` (a wrong permission would
then agree with itself).

HOW TO ADD YOUR ROUTES (every feature does, in the same commit as the route)
1. ``ROUTES[endpoint] = roles allowed``. Roles are the names in ``ROLES``:
   anonymous, member, accountant, board, treasurer, admin, and outsider (a
   treasurer of ANOTHER organisation). Shorthands: ``PUBLIC`` (everyone, signed
   in or not), ``SIGNED_IN`` (any account, outsider included), ``STAFF``
   (accountant, board, treasurer, admin). When GET and POST differ, give a dict:
   ``{"GET": STAFF, "POST": {"admin", "treasurer"}}``.
2. If the URL has arguments besides ``<org>``, say how to fill them in
   ``URL_ARGS[endpoint] = lambda o: {"party_id": o.professional.id}``. ``o`` hands
   out test objects by name, made on first use by the functions of ``OBJECTS``
   (``OBJECTS["professional"] = lambda o: ProfessionalFactory()``); a function
   may use ``o.organisation`` (slug ``cpts-test``, the one the URLs point to),
   ``o.other_organisation`` and other objects. Give objects to ``o.organisation``
   so that allowed roles reach a real page.
3. ``pytest tests/test_authorization.py``. A route missing from the table fails
   ``test_every_route_is_in_the_table``.

What is checked, for each method of the route (POST with an empty form, CSRF off):
- an allowed role gets neither 401/403/404 nor a 5xx, nor is sent to sign in;
- anonymous, when not allowed, is redirected to the sign-in page (``?next=``);
- outsider, when not allowed, gets 403 or 404; other roles get 403.
Each (route, role) is one test in its own rolled-back transaction, so a POST
that changes something is harmless.
"""
from urllib.parse import parse_qs, urlparse

import pytest
from flask import url_for

from backoffice.organisations.models import OrganisationKind
from tests.factories import UserFactory

ROLES = ("anonymous", "member", "accountant", "board", "treasurer", "admin", "outsider")
PUBLIC = frozenset(ROLES)
SIGNED_IN = PUBLIC - {"anonymous"}
STAFF = frozenset({"accountant", "board", "treasurer", "admin"})
ADMIN = frozenset({"admin"})

ROUTES = {
    # Foundation
    "static": PUBLIC,
    "bootstrap.static": PUBLIC,
    "main.index": PUBLIC,  # a redirection: to the sign-in page, or to the user's home
    "main.choose_organisation": SIGNED_IN,
    "main.dashboard.dashboard": STAFF,
    # The development outbox: anyone in development and tests, 404 with real mail
    # (see test_the_outbox_does_not_exist_with_real_mail).
    "mail.outbox": PUBLIC,
    "mail.message": PUBLIC,
    "audit.index": ADMIN,
    "organisations.settings": ADMIN,
    "people.index": {"admin", "treasurer", "board"},
    # Auth: signing in and out
    "auth.login": PUBLIC,
    "auth.logout": SIGNED_IN,
    "auth.request_link": PUBLIC,
    "auth.link_signin": PUBLIC,
    "auth.forgot_password": PUBLIC,
    "auth.reset_password": PUBLIC,
    "auth.accept_invitation": PUBLIC,
    "auth.change_password": SIGNED_IN,
    # Auth: the organisation's accounts and roles
    "auth.users.index": ADMIN,
    "auth.users.invite": ADMIN,
    "auth.users.show": ADMIN,
    "auth.users.grant": ADMIN,
    "auth.users.revoke": ADMIN,
    "auth.users.deactivate": ADMIN,
    "auth.users.reactivate": ADMIN,
    "auth.users.resend_invitation": ADMIN,
}

URL_ARGS = {
    "static": lambda o: {"filename": "maillage.css"},
    "bootstrap.static": lambda o: {"filename": "css/bootstrap.min.css"},
    "mail.message": lambda o: {"message_id": o.outbox_message.id},
    "auth.link_signin": lambda o: {"token": "lien-perime"},
    "auth.reset_password": lambda o: {"token": "lien-perime"},
    "auth.accept_invitation": lambda o: {"token": "lien-perime"},
    "auth.users.show": lambda o: {"user_id": o.account.id},
    "auth.users.grant": lambda o: {"user_id": o.account.id},
    "auth.users.revoke": lambda o: {"user_id": o.account.id, "role": "board"},
    "auth.users.deactivate": lambda o: {"user_id": o.account.id},
    "auth.users.reactivate": lambda o: {"user_id": o.account.id},
    "auth.users.resend_invitation": lambda o: {"user_id": o.account.id},
}


def _account(o):
    from backoffice.auth.services import grant_role

    user = UserFactory(full_name="Compte Cible")
    grant_role(user, o.organisation, "board")
    return user


def _outbox_message(o):
    from backoffice.mail.services import send_mail

    send_mail("quelqu-un@example.org", "Objet", "Corps du message")
    from sqlalchemy import select

    from backoffice.extensions import db
    from backoffice.mail.models import OutboxMessage

    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()


OBJECTS = {
    "account": _account,  # a board member of o.organisation
    "outbox_message": _outbox_message,
}

# Membership, treasurer side (backoffice/membership/views/)
_M_VIEW = frozenset({"admin", "treasurer", "board"})
_M_MANAGE = frozenset({"admin", "treasurer"})
ROUTES.update({
    "membership.index": _M_VIEW,
    "membership.dashboard": _M_VIEW,
    "membership.show": _M_VIEW,
    "membership.grid": {"GET": _M_VIEW, "POST": _M_MANAGE},
    "membership.export": _M_VIEW,
    **{f"membership.{name}": _M_MANAGE for name in (
        "create", "record_payment", "reverse_payment", "refund", "carry_credit", "exempt", "cancel", "reinstate",
        "lift_exemption", "change_category", "edit_category", "create_period", "toggle_renewal", "colleges",
        "settings", "cheques", "regenerate_slip", "statements_index", "statement_mapping", "review_statement",
        "ignore_line", "ignore_lines", "split_line", "direct_debit", "direct_debit_run", "direct_debit_run_file", "collect_run", "reject_debit",
        "create_mandate", "revoke_mandate", "remind", "renew")},
})
URL_ARGS.update({
    **{f"membership.{name}": (lambda o: {"membership_id": o.membership.id}) for name in (
        "show", "record_payment", "refund", "carry_credit", "exempt", "cancel", "reinstate", "lift_exemption",
        "change_category", "create_mandate", "remind")},
    "membership.reverse_payment": lambda o: {"payment_id": o.membership_payment.id},
    "membership.edit_category": lambda o: {"category_id": o.membership.category_id},
    "membership.toggle_renewal": lambda o: {"period_id": o.membership.period_id},
    "membership.renew": lambda o: {"period_id": o.membership.period_id},
    "membership.regenerate_slip": lambda o: {"deposit_id": o.cheque_deposit.id},
    "membership.ignore_line": lambda o: {"line_id": o.statement_line.id},
    "membership.split_line": lambda o: {"line_id": o.statement_line.id},
    "membership.direct_debit_run": lambda o: {"run_id": o.debit_run.id},
    "membership.direct_debit_run_file": lambda o: {"run_id": o.debit_run.id},
    "membership.collect_run": lambda o: {"run_id": o.debit_run.id},
    "membership.reject_debit": lambda o: {"payment_id": o.debit_run.payments[0].id},
    "membership.revoke_mandate": lambda o: {"mandate_id": o.sepa_mandate.id},
})


def _membership(o):
    from datetime import date

    from backoffice.membership import services
    from backoffice.membership.models import CategoryKind
    from tests.factories import ProfessionalFactory

    period = services.period_for_year(o.organisation, 2026)
    category = services.set_fee_category(period, "Médecin", "50", CategoryKind.PHYSICIAN)
    return services.create_membership(o.organisation, ProfessionalFactory(profession="medecin_generaliste"), period,
                                      category=category, joined_on=date(2026, 1, 10))


def _membership_payment(o):
    from backoffice.membership import services

    return services.record_payment(o.membership, "20", "transfer")


def _cheque_deposit(o):
    from backoffice.membership import deposits, services

    cheque = services.record_payment(o.membership, "10", "cheque", reference="0012345")
    return deposits.create_cheque_deposit(o.organisation, [cheque.id])


def _statement_line(o):
    from backoffice.membership import statements

    statements.save_csv_mapping(o.organisation, {"date": "Date", "label": "Libellé", "amount": "Montant"},
                                ["Date", "Libellé", "Montant"])
    content = "Date;Libellé;Montant\n03/02/2026;VIR INCONNU;30,00\n".encode()
    return statements.import_statement(o.organisation, "releve.csv", content).lines[0]


def _sepa_mandate(o):
    from datetime import date

    from backoffice.membership import sepa

    sepa.set_creditor_identifier(o.organisation, "FR72ZZZ123456")
    return sepa.create_mandate(o.organisation, o.membership.party, "FR1420041010050500013M02606", "PSSTFRPPLIL",
                               date(2025, 12, 1))


def _debit_run(o):
    from datetime import date, timedelta

    from backoffice.membership import sepa

    assert o.sepa_mandate.active
    run = sepa.create_run(o.organisation, [o.membership], date.today() + timedelta(days=7))
    return sepa.generate_file(run)


OBJECTS.update({
    "membership": _membership,  # a physician's 2026 membership of o.organisation, 50 € due
    "membership_payment": _membership_payment,
    "cheque_deposit": _cheque_deposit,
    "statement_line": _statement_line,
    "sepa_mandate": _sepa_mandate,
    "debit_run": _debit_run,  # a generated pain.008 run over o.membership
})

# Accounting (backoffice/accounting/views.py)
_A_VIEW = frozenset({"admin", "treasurer", "board", "accountant"})
_A_EDIT = frozenset({"admin", "treasurer"})
_A_EXPORT = frozenset({"admin", "treasurer", "accountant"})
_A_SETTINGS = frozenset({"admin", "treasurer"})
ROUTES.update({
    **{f"accounting.{name}": _A_VIEW for name in (
        "index", "balance", "ledger", "journal", "entry", "lettering", "periods", "openings", "closing")},
    **{f"accounting.{name}": _A_EDIT for name in (
        "new_entry", "reverse", "letter", "auto_letter", "unletter", "close_period", "generate_opening",
        "allocate_result")},
    **{f"accounting.{name}": _A_EXPORT for name in ("exports", "export_file", "export_notice")},
    **{f"accounting.{name}": _A_SETTINGS for name in (
        "edit_account", "delete_account", "edit_journal", "settings", "open_books")},
    "accounting.accounts": {"GET": _A_VIEW, "POST": _A_SETTINGS},
    "accounting.journals": {"GET": _A_VIEW, "POST": _A_SETTINGS},
    "accounting.close_year": frozenset({"admin", "treasurer"}),
})
URL_ARGS.update({
    "accounting.entry": lambda o: {"entry_id": o.accounting_entry.id},
    "accounting.reverse": lambda o: {"entry_id": o.accounting_entry.id},
    "accounting.export_file": lambda o: {"record_id": o.accounting_export.id},
    "accounting.export_notice": lambda o: {"record_id": o.accounting_export.id},
    "accounting.edit_account": lambda o: {"account_id": o.accounting_account.id},
    "accounting.delete_account": lambda o: {"account_id": o.accounting_account.id},
    "accounting.edit_journal": lambda o: {"journal_id": o.accounting_journal.id},
    "accounting.generate_opening": lambda o: {"year": 2027},
    "accounting.allocate_result": lambda o: {"year": 2027},
    "accounting.close_year": lambda o: {"year": 2026},
})


def _accounting_entry(o):
    from datetime import date
    from decimal import Decimal

    from backoffice.accounting.services import post_event
    from tests.factories import ProfessionalFactory

    return post_event(o.organisation, "fee_due", amount=Decimal("50.00"), entry_date=date(2026, 1, 15),
                      party=ProfessionalFactory(), piece_ref="ADH-1", label="Cotisation 2026")


def _accounting_export(o):
    from backoffice.accounting.exporting import export_to_path

    assert o.accounting_entry.number == 1
    return export_to_path(o.organisation, 2026, "fec", None, origin="web")


def _accounting_account(o):
    from backoffice.accounting.services import add_account

    return add_account(o.organisation, "512100", "Second compte bancaire")


def _accounting_journal(o):
    from backoffice.accounting.services import add_journal

    return add_journal(o.organisation, "VT", "Ventes", "sales")


OBJECTS.update({
    "accounting_entry": _accounting_entry,  # a posted fee due, entry 2026-00001 of o.organisation
    "accounting_export": _accounting_export,  # the FEC 2026 of o.organisation, with its notice
    "accounting_account": _accounting_account,  # an unused account (512100) of o.organisation
    "accounting_journal": _accounting_journal,  # an unused journal (VT) of o.organisation
})

# Annual accounts and budget (backoffice/accounting/annual_views.py)
ROUTES.update({
    "accounting.annual_accounts": _A_VIEW,
    "accounting.annual_export": _A_EXPORT,
    "accounting.budget_page": {"GET": _A_VIEW, "POST": _A_EDIT},
    "accounting.delete_budget_line": _A_EDIT,
})
URL_ARGS["accounting.delete_budget_line"] = lambda o: {"line_id": o.accounting_budget_line.id}


def _accounting_budget_line(o):
    from decimal import Decimal

    from backoffice.accounting.budget import set_budget_line
    from backoffice.accounting.services import ensure_ledger

    ensure_ledger(o.organisation)
    return set_budget_line(o.organisation, 2026, "6226", Decimal("1800.00"))


OBJECTS["accounting_budget_line"] = _accounting_budget_line  # 1 800 € on 6226 in 2026 for o.organisation

# Directory and organisation settings (backoffice/people/views.py, backoffice/organisations/views.py)
_P_VIEW = frozenset({"admin", "treasurer", "board"})
_P_EDIT = frozenset({"admin", "treasurer"})
ROUTES.update({
    "people.detail": _P_VIEW,
    "people.sites": _P_VIEW,
    **{f"people.{name}": _P_EDIT for name in (
        "create_professional", "create_structure", "edit", "add_to_directory", "create_site", "edit_site",
        "import_upload", "import_preview", "import_confirm", "import_columns", "import_cell",
        "import_template")},
    "organisations.upload_logo": ADMIN,
    "organisations.delete_logo": ADMIN,
    "organisations.create": ADMIN,
    "organisations.logo": STAFF | {"member"},  # the logo is shown to every role of the organisation
})
URL_ARGS.update({
    "people.detail": lambda o: {"party_id": o.professional.id},
    "people.edit": lambda o: {"party_id": o.professional.id},
    "people.add_to_directory": lambda o: {"party_id": o.professional.id},
    "people.edit_site": lambda o: {"site_id": o.site.id},
    # An upload with an error row: the confirmation is refused without writing anything.
    "people.import_preview": lambda o: {"token": o.people_import},
    "people.import_confirm": lambda o: {"token": o.people_import},
    "people.import_columns": lambda o: {"token": o.people_import},
    "people.import_cell": lambda o: {"token": o.people_import},
    "organisations.logo": lambda o: {"name": o.organisation_logo},
})


def _people_import(o):
    from backoffice.people.services import store_import

    return store_import(o.organisation, "Nom;Prénom;Profession;RPPS\r\nDurand;Luc;Infirmier;12345678901\r\n".encode(),
                        "annuaire.csv")


def _organisation_logo(o):
    import struct
    import zlib

    from backoffice.organisations.services import save_logo

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))
    return save_logo(o.organisation, png).name


def _site(o):
    from tests.factories import SiteFactory

    return SiteFactory()


def _professional(o):
    """A professional in o.organisation's directory (its staff may see and edit the entry)."""
    from backoffice.organisations.affiliations import add_contact
    from tests.factories import ProfessionalFactory

    professional = ProfessionalFactory()
    add_contact(o.organisation, professional)
    return professional


OBJECTS.setdefault("professional", _professional)
OBJECTS.update({
    "site": _site,
    "people_import": _people_import,  # token of a stored upload (one row with a bad RPPS)
    "organisation_logo": _organisation_logo,  # file name of o.organisation's PNG logo
})

# Tasks, documents and the job monitor (backoffice/tasks/views.py, backoffice/documents/views.py)
_D_GENERATE = frozenset({"admin", "treasurer"})
_D_TEMPLATES = frozenset({"admin", "treasurer"})
ROUTES.update({
    "tasks.index": STAFF,
    "tasks.show": STAFF,
    "tasks.progress": STAFF,
    "tasks.retry": {"admin", "treasurer"},  # and the one who asked for the task (tests/tasks)
    "tasks.cancel": {"admin", "treasurer"},  # and the one who asked (tests/tasks/test_cancel.py)
    # as its task kind declares (documents.directory_sheets: documents.generate); outsider 404
    "tasks.download": {"admin", "treasurer"},
    "jobs_admin.monitor_index": ADMIN,  # platform page: admin of at least one organisation
    "documents.index": _D_GENERATE,
    "documents.directory_sheets": _D_GENERATE,
    "documents.templates": _D_TEMPLATES,
    "documents.download_default": _D_TEMPLATES,
    "documents.download_custom": _D_TEMPLATES,
    "documents.upload": _D_TEMPLATES,
    "documents.revert": _D_TEMPLATES,
    # A receipt (membership.view); the member it is about too (tests/documents/test_generated.py).
    "documents.download_document": {"admin", "treasurer", "board"},
    "documents.download_document_pdf": {"admin", "treasurer", "board"},  # its PDF rendition, same rule
})
URL_ARGS.update({
    "tasks.show": lambda o: {"task_id": o.failed_task.id},
    "tasks.progress": lambda o: {"task_id": o.failed_task.id},
    "tasks.retry": lambda o: {"task_id": o.failed_task.id},
    "tasks.cancel": lambda o: {"task_id": o.failed_task.id},  # allowed roles are told it is over
    "tasks.download": lambda o: {"task_id": o.done_task.id, "token": o.done_task.download_token},
    "documents.download_default": lambda o: {"kind": "membership_receipt"},
    "documents.download_custom": lambda o: {"kind": o.document_template.kind},
    "documents.upload": lambda o: {"kind": "membership_receipt"},
    "documents.revert": lambda o: {"kind": "membership_receipt"},
    "documents.download_document": lambda o: {"document_id": o.generated_document.id},
    "documents.download_document_pdf": lambda o: {"document_id": o.generated_document.id},
})


def _failed_task(o):
    from backoffice.tasks.services import start_task
    from jobs.documents import generate_directory_sheets

    from backoffice.extensions import db

    # Testing runs jobs inline, after the commit; with an empty directory the task fails in French.
    task = start_task(organisation=o.organisation, user=None, kind="documents.directory_sheets",
                      label="Fiches annuaire", job=generate_directory_sheets, params={"commune": "Nulle-Part"})
    db.session.commit()
    return task


def _done_task(o):
    from backoffice.tasks.services import start_task
    from jobs.documents import generate_directory_sheets

    from backoffice.extensions import db

    task = start_task(organisation=o.organisation, user=None, kind="documents.directory_sheets",
                      label="Fiches annuaire", job=generate_directory_sheets, params={"commune": o.professional.commune})
    db.session.commit()
    return task


def _document_template(o):
    import io

    import docx

    from backoffice.documents.services import upload_template

    document = docx.Document()
    document.add_paragraph().add_run("{{ member.last_name }}")
    buffer = io.BytesIO()
    document.save(buffer)
    return upload_template(o.organisation, "membership_receipt", "modele.docx", buffer.getvalue())


def _generated_document(o):
    from backoffice.documents.generated import issue_document

    return issue_document(o.organisation, "membership_receipt", ("memberships", 1), b"PK attestation",
                          filename="attestation-adhesion-2026-0001.docx", year=2026, pdf=b"%PDF-1.7 attestation")


OBJECTS.update({
    "generated_document": _generated_document,  # a receipt of o.organisation, about nobody's membership
    "failed_task": _failed_task,  # a failed task of o.organisation, asked by nobody
    "done_task": _done_task,  # a done task of o.organisation with its ZIP
    "document_template": _document_template,  # o.organisation's own membership receipt template
})

# A member sees only their own rows: where it matters, the account a role signs in with:
# SIGN_IN_AS[endpoint] = {role: fn(o) -> account} (default: a fresh account with that role).
SIGN_IN_AS = {}
# ORGANISATION_KINDS[endpoint] = the kind the test organisation takes for that route (default: CPTS).
ORGANISATION_KINDS = {}

# Membership, member side (backoffice/member_portal/views.py): the member's pages, the
# treasurer's receipts, reminders, HelloAsso and unmatched payments, HelloAsso's notification URL.
_MEMBER = frozenset({"member"})
ROUTES.update({
    "self_service.home": SIGNED_IN,  # lists the organisations where the account is a member (maybe none)
    "self_service.contact": _MEMBER,
    "self_service.change_email": _MEMBER,
    "self_service.confirm_email": PUBLIC,  # the signed link is the proof (a bad one: 400)
    **{f"self_service.member.{name}": _MEMBER for name in (
        "home", "renew", "payment", "pay_online", "online_return", "receipt", "request_receipt")},
    "self_service.online.treasurer_receipt": _M_VIEW,
    **{f"self_service.online.{name}": _M_MANAGE for name in (
        "generate_receipt", "receipts_bulk", "reminder_settings", "send_reminders", "helloasso_settings",
        "unmatched", "resolve_unmatched", "dismiss_unmatched")},
    "self_service.helloasso_hook.notification": PUBLIC,  # HelloAsso calls it; the body is never trusted
})
URL_ARGS.update({
    "self_service.confirm_email": lambda o: {"token": "lien-perime"},
    "self_service.member.renew": lambda o: {"period_id": o.membership.period_id},
    "self_service.member.payment": lambda o: {"membership_id": o.membership.id},
    "self_service.member.pay_online": lambda o: {"membership_id": o.membership.id},
    "self_service.member.receipt": lambda o: {"membership_id": o.receipt_membership.id},
    "self_service.member.request_receipt": lambda o: {"membership_id": o.receipt_membership.id},
    "self_service.online.treasurer_receipt": lambda o: {"membership_id": o.receipt_membership.id},
    "self_service.online.generate_receipt": lambda o: {"membership_id": o.receipt_membership.id},
    "self_service.online.resolve_unmatched": lambda o: {"unmatched_id": o.unmatched_payment.id},
    "self_service.online.dismiss_unmatched": lambda o: {"unmatched_id": o.unmatched_payment.id},
    "self_service.helloasso_hook.notification": lambda o: {"org": o.organisation.slug},
})
# A member sees only their own memberships: on these routes "member" signs in with the account
# that came with the membership the URL names (its physician's).
SIGN_IN_AS.update({
    **{f"self_service.member.{name}": {"member": lambda o: o.member_account} for name in (
        "home", "renew", "payment", "pay_online", "online_return")},
    "self_service.contact": {"member": lambda o: o.member_account},
    "self_service.change_email": {"member": lambda o: o.member_account},
    "self_service.member.receipt": {"member": lambda o: _account_of(o.receipt_membership.party)},
    "self_service.member.request_receipt": {"member": lambda o: _account_of(o.receipt_membership.party)},
})


def _account_of(party):
    from sqlalchemy import select

    from backoffice.auth.models import User
    from backoffice.extensions import db

    return db.session.scalar(select(User).where(User.party_id == party.id))


def _receipt_membership(o):
    from datetime import date

    from backoffice.membership import receipts, services
    from tests.factories import ProfessionalFactory

    membership = services.create_membership(o.organisation, ProfessionalFactory(), o.membership.period,
                                            joined_on=date(2026, 1, 10))
    services.record_payment(membership, membership.amount_due, "transfer", date(2026, 1, 20))
    receipts.generate(receipts.ensure_receipt(membership, mail_wanted=False))
    return membership


def _unmatched_payment(o):
    from datetime import date
    from decimal import Decimal

    from backoffice.member_portal.models import UnmatchedPayment

    row = UnmatchedPayment(organisation_id=o.organisation.id, source="helloasso", external_id="27182",
                           order_id="31415", amount=Decimal("30.00"), paid_on=date(2026, 3, 2),
                           payer_name="Jean Martin", payer_email="j.martin@example.org")
    from backoffice.extensions import db

    db.session.add(row)
    return row


OBJECTS.update({
    "member_account": lambda o: _account_of(o.membership.party),  # the member account of o.membership's physician
    "receipt_membership": _receipt_membership,  # a paid 2026 membership with its receipt file
    "unmatched_payment": _unmatched_payment,  # an open HelloAsso payment naming no membership
})

# Banking: the treasurer's bank accounts (backoffice/banking/views.py)
ROUTES.update({f"banking.{name}": frozenset({"admin", "treasurer"})
               for name in ("accounts", "new_account", "edit_account", "make_default")})
URL_ARGS.update({f"banking.{name}": (lambda o: {"account_id": o.bank_account.id})
                 for name in ("edit_account", "make_default")})
OBJECTS.update({
    "bank_account": lambda o: o.organisation.default_bank_account,  # the test organisation's (its IBAN)
})
# Bank reconciliation and the rules remembered by label (backoffice/banking/views.py).
ROUTES.update({f"banking.{name}": frozenset({"admin", "treasurer"}) for name in (
    "reconciliation_index", "reconciliation_page", "auto_reconcile", "book_proposed", "reconcile_line", "book_line", "undo_match", "statement_balance",
    "reconciliation_statement", "rules", "new_rule", "edit_rule", "delete_rule")})
URL_ARGS.update({
    "banking.reconciliation_page": lambda o: {"account_id": o.bank_account.id},
    "banking.auto_reconcile": lambda o: {"account_id": o.bank_account.id},
    "banking.book_proposed": lambda o: {"account_id": o.bank_account.id},
    "banking.reconcile_line": lambda o: {"line_id": o.bank_line.id},
    "banking.book_line": lambda o: {"line_id": o.bank_line.id},
    "banking.undo_match": lambda o: {"match_id": o.bank_match.id},
    "banking.statement_balance": lambda o: {"statement_id": o.bank_line.statement_id},
    "banking.reconciliation_statement": lambda o: {"statement_id": o.bank_line.statement_id},
    "banking.edit_rule": lambda o: {"rule_id": o.label_rule.id},
    "banking.delete_rule": lambda o: {"rule_id": o.label_rule.id},
})


def _bank_line(o):
    from datetime import date
    from decimal import Decimal

    from tests.factories import BankStatementFactory, BankStatementLineFactory

    statement = BankStatementFactory(bank_account=o.bank_account, closing_date=date(2026, 2, 28),
                                     closing_balance=Decimal("-4.90"))
    return BankStatementLineFactory(statement=statement, amount=Decimal("-4.90"), label="FRAIS TENUE DE COMPTE")


def _bank_match(o):
    from decimal import Decimal

    from tests.factories import BankLineMatchFactory, BankStatementLineFactory

    line = BankStatementLineFactory(statement=o.bank_line.statement, amount=Decimal("12.00"), status="matched")
    return BankLineMatchFactory(line=line, target_kind="accounting_lines", target_id=999999)


def _label_rule(o):
    from tests.factories import BankLabelRuleFactory

    return BankLabelRuleFactory(organisation=o.organisation)


OBJECTS.update({
    "bank_line": _bank_line,  # a debit of the default account's statement, unreconciled
    "bank_match": _bank_match,  # a line reconciled with a line of the books (undone by the POST)
    "label_rule": _label_rule,  # « MAIF » → 616
})

# SISA remuneration (backoffice/sisa/views.py): its pages serve SISAs only, so the test
# organisation is a SISA for them (ORGANISATION_KINDS).
_SISA_MANAGE = frozenset({"admin", "treasurer"})
ROUTES.update({
    **{f"sisa.{name}": STAFF for name in ("index", "year", "associates", "keys", "simulation")},
    **{f"sisa.{name}": _SISA_MANAGE for name in (
        "add_income", "add_deduction", "remove_deduction", "post_deductions", "edit_associate", "create_scenario",
        "edit_scenario", "remove_points", "new_meeting", "edit_meeting", "delete_meeting", "import_meetings",
        "import_meetings_preview", "import_meetings_confirm", "prepare_version", "freeze", "discard", "mark_paid",
        "start_statements", "start_summary", "start_transfer_file", "start_certificates", "save_aci_grid",
        "settle_refund", "net_refunds")},
    "sisa.aci_expected": STAFF,
    "sisa.refunds": STAFF,
    "sisa.meetings": STAFF,
    "sisa.distributions": STAFF,
    "sisa.distribution": STAFF,
    "sisa.points": {"GET": STAFF, "POST": _SISA_MANAGE},
    "sisa.my_figures": _MEMBER,
})
URL_ARGS.update({
    **{f"sisa.{name}": (lambda o: {"year": 2025}) for name in (
        "year", "add_income", "add_deduction", "post_deductions", "associates", "keys", "create_scenario", "points",
        "simulation", "meetings", "new_meeting", "distributions", "prepare_version", "aci_expected", "save_aci_grid",
        "refunds")},
    "sisa.settle_refund": lambda o: {"refund_id": o.sisa_refund.id},
    **{f"sisa.{name}": (lambda o: {"distribution_id": o.sisa_distribution.id}) for name in (
        "distribution", "freeze", "discard", "mark_paid", "start_statements", "start_summary", "start_transfer_file",
        "net_refunds")},
    **{f"sisa.{name}": (lambda o: {"meeting_id": o.sisa_meeting.id}) for name in ("edit_meeting", "delete_meeting")},
    **{f"sisa.{name}": (lambda o: {"token": o.sisa_import_token}) for name in (
        "import_meetings_preview", "import_meetings_confirm")},
    "sisa.remove_deduction": lambda o: {"deduction_id": o.sisa_deduction.id},
    "sisa.edit_associate": lambda o: {"party_id": o.sisa_associate.id},
    "sisa.edit_scenario": lambda o: {"scenario_id": o.sisa_scenario.id},
    "sisa.remove_points": lambda o: {"points_id": o.sisa_points.id},
})


def _sisa_associate(o):
    from datetime import date

    from backoffice.organisations.affiliations import Role, affiliate
    from tests.factories import ProfessionalFactory

    party = ProfessionalFactory(first_name="Gaëlle", last_name="Lemaître", profession="infirmier")
    affiliate(party, o.organisation, Role.ASSOCIATE, date(2020, 1, 1))
    return party


def _sisa_scenario(o):
    from backoffice.sisa import services

    scenario = services.create_scenario(o.organisation, 2025, "Règlement intérieur")
    return services.set_keys(scenario, [services.KeyRow("Part égale", "100", "equal")])


def _sisa_deduction(o):
    from backoffice.sisa import services

    return services.add_deduction(o.organisation, 2025, "reserve", "Réserve de trésorerie", amount="500")


def _sisa_points(o):
    from backoffice.sisa import services

    return services.add_mission_points(o.organisation, 2025, o.sisa_associate, "Référent protocole AVK", "2")


def _sisa_meeting(o):
    from datetime import date

    from backoffice.sisa import services

    return services.save_meeting(o.organisation, None, held_on=date(2025, 3, 4), minutes=90, kind="rcp",
                                 theme="RCP patients diabétiques", party_ids=[o.sisa_associate.id])


def _sisa_import_token(o):
    from backoffice.people import services

    o.sisa_associate  # noqa: B018  (the file names her)
    return services.store_import(o.organisation, "Date;Durée;Thème;Participant\n04/03/2025;1h30;RCP;Gaëlle Lemaître\n"
                                 .encode(), "presences.csv")


def _sisa_distribution(o):
    from datetime import date

    from backoffice.sisa import services

    o.sisa_associate  # noqa: B018  (the one associate it pays)
    services.record_income(o.organisation, 2025, "advance", "Avance ACI 2025", date(2025, 4, 30), "1 000,00")
    return services.freeze(services.prepare_version(o.organisation, 2025, o.sisa_scenario), date(2025, 12, 31))


def _sisa_refund(o):
    from decimal import Decimal

    from backoffice.extensions import db
    from backoffice.sisa.models import SisaRefund

    refund = SisaRefund(organisation_id=o.organisation.id, year=2025, distribution_id=o.sisa_distribution.id,
                        party_id=o.sisa_associate.id, amount=Decimal("100.00"))
    db.session.add(refund)
    db.session.flush()
    return refund


OBJECTS.update({
    "sisa_refund": _sisa_refund,  # 100,00 € owed back by the associate, on version 1
    "sisa_distribution": _sisa_distribution,  # version 1 of 2025, validated
    "sisa_meeting": _sisa_meeting,
    "sisa_import_token": _sisa_import_token,  # a stored meetings file whose one line is valid
    "sisa_associate": _sisa_associate,  # an associate (affiliation) of the test organisation
    "sisa_deduction": _sisa_deduction,
    "sisa_scenario": _sisa_scenario,  # 2025, one key: 100 % equal
    "sisa_points": _sisa_points,
})
ORGANISATION_KINDS.update({endpoint: OrganisationKind.SISA for endpoint in ROUTES if endpoint.startswith("sisa.")})

# Equipment grants, staff side (backoffice/grants/views.py)
_G_VIEW = frozenset({"admin", "treasurer", "board", "accountant"})
_G_DECIDE = frozenset({"admin", "treasurer", "board"})
_G_MANAGE = frozenset({"admin", "treasurer"})
ROUTES.update({
    **{f"grants.{name}": _G_VIEW for name in ("index", "programme", "applications", "application")},
    **{f"grants.{name}": _G_DECIDE for name in ("approve", "reject", "cancel", "issue_agreement", "issue_agreements",
                                                "claim_repayment", "committee_meeting")},
    **{f"grants.{name}": _G_MANAGE for name in (
        "new_programme", "edit_programme", "new_application", "edit_application", "submit", "withdraw", "upload",
        "sign_scan", "deliver", "close", "pay", "payments_index", "payee", "transfers", "funding_received", "dedicated_funds")},
    "grants.report": _G_VIEW,
    "grants.attachment": _G_VIEW | {"member"},  # and the applicant himself (SIGN_IN_AS), 404 for anyone else
    # The member's own space: "member" signs in as the applicant of o.grant_application.
    **{f"grants.member.{name}": _MEMBER for name in (
        "index", "apply", "show", "upload", "submit", "sign", "withdraw", "follow_up", "devices_lent")},
})
_G_APPLICATION_ROUTES = ("application", "edit_application", "submit", "approve", "reject", "withdraw", "cancel",
                         "upload", "issue_agreement", "sign_scan", "deliver", "close", "claim_repayment",
                         "member.show", "member.upload", "member.submit", "member.sign", "member.withdraw",
                         "member.follow_up")
URL_ARGS.update({
    **{f"grants.{name}": (lambda o: {"programme_id": o.grant_programme.id}) for name in (
        "programme", "edit_programme", "member.apply", "committee_meeting")},
    **{f"grants.{name}": (lambda o: {"application_id": o.grant_application.id}) for name in _G_APPLICATION_ROUTES},
    "grants.attachment": lambda o: {"attachment_id": o.grant_attachment.id},
    "grants.pay": lambda o: {"application_id": o.grant_signed_application.id},
    "grants.payee": lambda o: {"party_id": o.grant_signed_application.applicant_id},
    "grants.funding_received": lambda o: {"programme_id": o.grant_programme.id,
                                          "funder_id": o.grant_programme.funders[0].id},
    "grants.report": lambda o: {"programme_id": o.grant_programme.id},
    "grants.dedicated_funds": lambda o: {"programme_id": o.grant_programme.id},
    "grants.issue_agreements": lambda o: {"programme_id": o.grant_programme.id},
})
SIGN_IN_AS.update({f"grants.{name}": {"member": lambda o: o.grant_applicant_account} for name in (
    "attachment", "member.index", "member.apply", *(r for r in _G_APPLICATION_ROUTES if r.startswith("member.")))})


def _grant_programme(o):
    from tests.grants.factories import dermatoscope_programme

    return dermatoscope_programme(o.organisation)


def _grant_application(o):
    from tests.grants.factories import submitted

    return submitted(o.organisation, o.grant_programme)


def _grant_applicant_account(o):
    from backoffice.auth.services import grant_role

    user = UserFactory(party_id=o.grant_application.applicant_id, full_name="Maëlys Le Gall")
    grant_role(user, o.organisation, "member")
    return user


def _grant_attachment(o):
    from backoffice.grants.attachments import add_attachment

    return add_attachment(o.grant_application, "quote", "devis.pdf", b"%PDF-1.4\n%%EOF\n")


def _grant_signed_application(o):
    from backoffice.grants import agreements, services
    from tests.grants.factories import submitted

    application = submitted(o.organisation, o.grant_programme)
    services.approve(application)
    agreements.issue_agreement(application)
    agreements.sign_by_scan(application, "convention.pdf", b"%PDF-1.4\n%%EOF\n")
    return application


# In kind (backoffice/grants/device_views.py)
ROUTES.update({
    **{f"grants.{name}": _G_VIEW for name in ("devices_index", "device", "device_invoice")},
    **{f"grants.{name}": _G_MANAGE for name in (
        "new_device", "lend_device", "transfer_device", "return_device", "retire_device", "pay_device",
        "custody_agreement", "depreciation")},
})
URL_ARGS.update({
    **{f"grants.{name}": (lambda o: {"device_id": o.grant_device.id}) for name in (
        "device", "device_invoice", "lend_device", "transfer_device", "return_device", "retire_device", "pay_device",
        "custody_agreement")},
    "grants.new_device": lambda o: {"programme_id": o.grant_in_kind_programme.id},
    "grants.depreciation": lambda o: {"programme_id": o.grant_in_kind_programme.id},
})


def _grant_in_kind_programme(o):
    from backoffice.grants.models import ProgrammeMode
    from tests.grants.factories import dermatoscope_programme

    return dermatoscope_programme(o.organisation, name="Dermatoscopes prêtés 2026", mode=ProgrammeMode.IN_KIND)


def _grant_device(o):
    from datetime import date

    from backoffice.grants import devices

    return devices.create_device(o.grant_in_kind_programme, equipment_kind="Dermatoscope", serial_number="HD30-0001",
                                 purchased_on=date(2026, 3, 16), purchase_amount="749,90", supplier="Medisafe",
                                 invoice=("facture.pdf", b"%PDF-1.4\n%%EOF\n"))


OBJECTS.update({
    "grant_in_kind_programme": _grant_in_kind_programme,  # an in-kind programme of o.organisation
    "grant_device": _grant_device,  # a device bought for it, in stock, with its invoice
    "grant_signed_application": _grant_signed_application,  # approved, convention issued and signed (scan)
    "grant_programme": _grant_programme,  # the 2026 dermatoscope programme of o.organisation (6 000 €)
    "grant_application": _grant_application,  # a submitted application of a paid member to it (600 €)
    "grant_applicant_account": _grant_applicant_account,  # the member account of that applicant
    "grant_attachment": _grant_attachment,  # a PDF quote of that application
})

METHODS_TRIED = ("GET", "POST")


class Objects:
    """Test objects by name, made on first use by ``OBJECTS`` and flushed."""

    def __init__(self, organisation, other_organisation):
        self.organisation = organisation
        self.other_organisation = other_organisation

    def __getattr__(self, name):
        if name not in OBJECTS:
            raise AttributeError(f"No test object {name!r}: add a function to OBJECTS in {__file__}.")
        from backoffice.extensions import db

        value = OBJECTS[name](self)
        db.session.flush()
        setattr(self, name, value)
        return value


def _rules(app):
    return {rule.endpoint: rule for rule in app.url_map.iter_rules()}


def allowed_roles(endpoint, method):
    expected = ROUTES[endpoint]
    return frozenset(expected[method] if isinstance(expected, dict) else expected)


def _url(app, endpoint, rule, objects):
    if endpoint in ORGANISATION_KINDS:  # a feature that serves other kinds than the test CPTS
        objects.organisation.kind = ORGANISATION_KINDS[endpoint]
    values = {"org": objects.organisation.slug} if "org" in rule.arguments else {}
    missing = set(rule.arguments) - set(values) - set(rule.defaults or {})
    if missing:
        assert endpoint in URL_ARGS, f"{endpoint} needs {sorted(missing)}: add URL_ARGS[{endpoint!r}] in {__file__}."
        values.update(URL_ARGS[endpoint](objects))
    with app.test_request_context():
        return url_for(endpoint, **values)


def _sign_in(login_as, role, organisation, other_organisation, user=None):
    if role == "anonymous":
        return login_as(None)
    if role == "outsider":
        return login_as("treasurer", org=other_organisation, user=user)
    return login_as(role, org=organisation, user=user)


def _sent_to_sign_in(response):
    if response.status_code not in (301, 302, 303, 307):
        return False
    location = urlparse(response.headers["Location"])
    return location.path == "/auth/login" and "next" in parse_qs(location.query)


def _check(response, role, allowed, where):
    status = response.status_code
    if role in allowed:
        assert status < 500 and status not in (401, 403, 404), f"{where}: {status}, expected to be let in"
        assert not _sent_to_sign_in(response), f"{where}: sent to sign in, expected to be let in"
    elif role == "anonymous":
        assert _sent_to_sign_in(response), f"{where}: {status}, expected a redirection to the sign-in page"
    elif role == "outsider":
        assert status in (403, 404), f"{where}: {status}, expected 403 or 404 (another organisation's page)"
    else:
        assert status == 403, f"{where}: {status}, expected 403"

# General assemblies (backoffice/assemblies/views.py): board members and the treasurer run them;
# a member votes in those whose roll names him.
_AG = frozenset({"admin", "treasurer", "board"})
_AG_DRAFT = ("show", "edit", "roll", "add_resolution", "convene", "open_session", "close_session")
_AG_LIVE = ("proxies", "attendance", "quorum", "session", "results", "minutes", "export_results",
            "second_convocation")
_AG_MEMBER = ("member_assembly", "member_proxy", "member_revoke_proxy", "member_check_in", "member_results")
ROUTES.update({
    **{f"assemblies.{name}": _AG for name in (
        "index", "create", *_AG_DRAFT, "edit_resolution", "delete_resolution", *_AG_LIVE, "revoke_proxy",
        "check_in", "undo_check_in", "open_vote", "close_vote", "room_counts", "export_board",
        "convocation_documents", "attendance_sheet", "regularise", "casting_vote", "add_document",
        "delete_document", "document")},
    **{f"assemblies.{name}": _MEMBER for name in ("mine", *_AG_MEMBER, "member_vote", "member_link",
                                                  "member_document")},
})
URL_ARGS.update({
    **{f"assemblies.{name}": (lambda o: {"assembly_id": o.assembly.id}) for name in _AG_DRAFT},
    **{f"assemblies.{name}": (lambda o: {"assembly_id": o.assembly.id, "resolution_id": o.assembly.resolutions[0].id})
       for name in ("edit_resolution", "delete_resolution")},
    **{f"assemblies.{name}": (lambda o: {"assembly_id": o.convened_assembly.id}) for name in (*_AG_LIVE, *_AG_MEMBER)},
    "assemblies.revoke_proxy": lambda o: {"assembly_id": o.convened_assembly.id,
                                          "proxy_id": o.convened_assembly_proxy.id},
    **{f"assemblies.{name}": (lambda o: {"assembly_id": o.convened_assembly.id,
                                         "voter_id": o.convened_assembly.voters[0].id})
       for name in ("check_in", "undo_check_in")},
    **{f"assemblies.{name}": (lambda o: {"assembly_id": o.convened_assembly.id,
                                         "resolution_id": o.convened_assembly.resolutions[0].id})
       for name in ("open_vote", "close_vote", "room_counts", "member_vote", "export_board", "casting_vote")},
    "assemblies.regularise": lambda o: {"assembly_id": o.convened_assembly.id,
                                        "exclusion_id": o.convened_assembly_exclusion.id},
    "assemblies.convocation_documents": lambda o: {"assembly_id": o.convened_assembly.id},
    "assemblies.attendance_sheet": lambda o: {"assembly_id": o.convened_assembly.id},
    "assemblies.member_link": lambda o: _member_voting_link(o.convened_assembly, o.member_account),
    "assemblies.add_document": lambda o: {"assembly_id": o.convened_assembly.id,
                                          "resolution_id": o.convened_assembly.resolutions[0].id},
    **{f"assemblies.{name}": (lambda o: {"assembly_id": o.convened_assembly.id,
                                         "document_id": o.convened_assembly_document.id})
       for name in ("delete_document", "document", "member_document")},
})
SIGN_IN_AS.update({f"assemblies.{name}": {"member": lambda o: o.member_account}
                   for name in ("mine", *_AG_MEMBER, "member_vote", "member_link", "member_document")})


def _member_voting_link(assembly, account):
    from backoffice.assemblies.convocations import voting_token

    voter = next(v for v in assembly.voters if v.party_id == account.party_id)
    return {"assembly_id": assembly.id, "token": voting_token(voter)}


def _assembly(o):
    from tests.assemblies.factories import assembly

    return assembly(o.organisation)


def _convened_assembly(o):
    """An AGO of o.organisation convened on a roll of o.member_account's physician and two others."""
    from backoffice.assemblies.models import AssemblyStatus, AssemblyVoter
    from backoffice.extensions import db
    from backoffice.lifecycle import move
    from tests.assemblies.factories import assembly
    from tests.factories import ProfessionalFactory

    a = assembly(o.organisation, title="AGO convoquée")
    parties = [o.member_account.party, ProfessionalFactory(), ProfessionalFactory()]
    for party in parties:
        db.session.add(AssemblyVoter(assembly_id=a.id, party_id=party.id, sort_name=party.sort_name, weight=1))
    move(a, AssemblyStatus.CONVENED)
    db.session.flush()
    db.session.expire(a, ["voters"])
    return a


def _convened_assembly_exclusion(o):
    """A member left off the convened assembly's roll (not paid at the cut-off)."""
    from backoffice.assemblies.models import AssemblyExclusion
    from backoffice.extensions import db
    from tests.factories import ProfessionalFactory

    party = ProfessionalFactory()
    exclusion = AssemblyExclusion(assembly_id=o.convened_assembly.id, party_id=party.id, sort_name=party.sort_name,
                                  reason="unpaid", reason_label="Cotisation non payée")
    db.session.add(exclusion)
    db.session.flush()
    return exclusion


def _convened_assembly_proxy(o):
    from backoffice.assemblies import voting

    a = o.convened_assembly
    return voting.give_proxy(a, a.voters[1], a.voters[2])


def _convened_assembly_document(o):
    from backoffice.assemblies.attachments import add_document

    return add_document(o.convened_assembly.resolutions[0], "Comptes annuels 2025", "comptes.pdf",
                        b"%PDF-1.4\n%%EOF\n")


OBJECTS.update({
    "assembly": _assembly,  # an AGO of o.organisation in preparation, with two resolutions
    "convened_assembly_document": _convened_assembly_document,  # the accounts attached to its first resolution
    "convened_assembly": _convened_assembly,
    "convened_assembly_proxy": _convened_assembly_proxy,
    "convened_assembly_exclusion": _convened_assembly_exclusion,
})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_route_answers_each_role_as_expected(app, client, login_as, organisation, other_organisation, endpoint, role):
    rule = _rules(app).get(endpoint)
    assert rule is not None, f"{endpoint} is in ROUTES but the application has no such route: remove it."
    objects = Objects(organisation, other_organisation)
    url = _url(app, endpoint, rule, objects)
    user = SIGN_IN_AS.get(endpoint, {}).get(role, lambda o: None)(objects)
    for method in METHODS_TRIED:
        if method not in rule.methods:
            continue
        user = _sign_in(login_as, role, organisation, other_organisation, user)
        response = client.open(url, method=method)
        response.close()  # static files are streamed from an open file
        _check(response, role, allowed_roles(endpoint, method), f"{method} {url} as {role}")


def test_every_route_is_in_the_table(app):
    missing = sorted(set(_rules(app)) - set(ROUTES))
    assert not missing, (
        "Routes without authorization expectations: add them to ROUTES (and URL_ARGS) in "
        f"tests/test_authorization.py: {missing}"
    )


def test_the_table_is_well_formed(app):
    rules = _rules(app)
    for endpoint, expected in ROUTES.items():
        for method, roles in (expected.items() if isinstance(expected, dict) else [(None, expected)]):
            assert set(roles) <= set(ROLES), f"{endpoint}: unknown roles {set(roles) - set(ROLES)}"
            assert method in (None, *METHODS_TRIED), f"{endpoint}: unknown method {method}"
        rule = rules.get(endpoint)
        if rule is not None and rule.rule.startswith("/o/<org>"):
            for method in METHODS_TRIED:
                if method in rule.methods:
                    assert "outsider" not in allowed_roles(endpoint, method), (
                        f"{endpoint}: an organisation's page can't be open to another organisation's treasurer"
                    )


@pytest.mark.parametrize("endpoint", ["mail.outbox", "mail.message"])
@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_the_outbox_does_not_exist_with_real_mail(app, client, login_as, organisation, other_organisation,
                                                  monkeypatch, endpoint, role):
    objects = Objects(organisation, other_organisation)
    url = _url(app, endpoint, _rules(app)[endpoint], objects)
    _sign_in(login_as, role, organisation, other_organisation)
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    assert client.get(url).status_code == 404

