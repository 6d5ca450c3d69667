"""factory_boy factories bound to the current test session: one per model (checked by
tests/test_factories.py), with realistic French values. They write rows as they are, around the
services: a test of a rule goes through the service; a factory sets the scene."""
from datetime import date, datetime
from decimal import Decimal

import factory

from backoffice.accounting.budget import BudgetLine
from backoffice.accounting.models import (
    Account,
    AccountTotal,
    AuxiliaryAccount,
    ClosedPeriod,
    EntrySequence,
    ExportRecord,
    Journal,
    JournalEntry,
    JournalLine,
    Ledger,
    PaymentMethodRule,
    PostingRule,
)
from backoffice.assemblies.models import (
    Assembly,
    AssemblyExclusion,
    AssemblyVoter,
    Attendance,
    Choice,
    OpenVote,
    Participation,
    Proxy,
    Resolution,
    ResolutionDocument,
    ResolutionStatus,
    SealedBallot,
    SecretBallot,
)
from backoffice.audit.models import AuditEntry
from backoffice.auth.models import Role, RoleAssignment, User
from backoffice.banking.models import (BankAccount, BankCsvLayout, BankLabelRule, BankLineMatch, BankStatement,
                                       BankStatementLine, PayeeBankDetails)
from backoffice.documents.models import DocumentSequence, DocumentTemplate, GeneratedDocument
from backoffice.extensions import db
from backoffice.grants.models import (AttachmentKind, DeviceStatus, GrantApplication, GrantAttachment, GrantDevice,
                                      GrantDeviceCustody, GrantFollowUp, GrantFollowUpReminder, GrantFunder,
                                      GrantProgramme, GrantStatus, ProgrammeMode)
from backoffice.lifecycle import StatusChange
from backoffice.mail.models import OutboxMessage, OutgoingMail
from backoffice.member_portal.models import (
    HelloAssoAccount,
    HelloAssoCheckout,
    MembershipReceipt,
    ReminderLog,
    ReminderSettings,
    UnmatchedPayment,
)
from backoffice.membership.models import (
    CategoryKind,
    ChequeDeposit,
    College,
    DirectDebitRun,
    FeeCategory,
    Membership,
    MembershipPayment,
    MembershipPeriod,
    MembershipSettings,
    PaymentMethod,
    SepaMandate,
)
from backoffice.models import utcnow
from backoffice.organisations.models import Affiliation, AffiliationRole, Organisation, OrganisationKind
from backoffice.people.models import ImportLayout, Professional, Site, Structure
from backoffice.sisa.models import (SisaAciGrid, SisaAciIndicator, SisaAssociate, SisaAttendance, SisaDeduction,
                                    SisaDistribution, SisaDistributionShare, SisaIncome, SisaKey, SisaMeeting,
                                    SisaMissionPoints, SisaRefund, SisaRefundOffset, SisaScenario)
from backoffice.tasks.models import Task


class Factory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731  (the session changes per test)
        sqlalchemy_session_persistence = "flush"

    @classmethod
    def _adjust_kwargs(cls, **kwargs):
        """A related row given by name (``organisation=org``) where the model has only the
        ``organisation_id`` column and no relationship: its id is passed instead."""
        model = cls._meta.model
        for name, value in list(kwargs.items()):
            if (value is None or isinstance(value, db.Model)) and not hasattr(model, name) \
                    and hasattr(model, f"{name}_id"):
                row = kwargs.pop(name)
                if row is not None:
                    kwargs.setdefault(f"{name}_id", row.id)  # an explicit ``…_id`` wins
        return kwargs


class OrganisationFactory(Factory):
    class Meta:
        model = Organisation

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"CPTS numéro {n}")
    kind = OrganisationKind.CPTS
    siren = "812345676"
    address = "12 rue de la Poste"
    postcode = "44350"
    city = "Guérande"
    iban = "FR7630004000031234567890143"
    bic = "BNPAFRPPXXX"
    fiscal_year_start_month = 1


class UserFactory(Factory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Sequence(lambda n: f"Utilisateur {n}")
    active = True


class SiteFactory(Factory):
    class Meta:
        model = Site

    name = factory.Sequence(lambda n: f"MSP numéro {n}")
    kind = "msp"
    postcode = "53100"
    commune = "Mayenne"


class ProfessionalFactory(Factory):
    class Meta:
        model = Professional

    civility = "Mme"
    first_name = factory.Sequence(lambda n: f"Prénom{n}")
    last_name = factory.Sequence(lambda n: f"Nom{n}")
    profession = "infirmier"
    email = factory.Sequence(lambda n: f"pro{n}@example.org")
    commune = "Guérande"
    postcode = "44350"


class ImportLayoutFactory(Factory):
    """The columns of a treasurer's spreadsheet, remembered for the next import."""

    class Meta:
        model = ImportLayout

    organisation = factory.SubFactory(OrganisationFactory)
    layout = factory.Sequence(lambda n: f"nom|prénom|profession|e-mail|n° {n}")
    columns = factory.LazyFunction(lambda: {"0": "last_name", "1": "first_name", "2": "profession", "3": "email"})
    professions = factory.LazyFunction(lambda: {"IDE": "infirmier", "Kiné": "masseur_kinesitherapeute"})


class StructureFactory(Factory):
    class Meta:
        model = Structure

    name = factory.Sequence(lambda n: f"EHPAD numéro {n}")
    structure_type = "ehpad"
    commune = "Guérande"


# --- accounts and audit --------------------------------------------------------------------

class RoleAssignmentFactory(Factory):
    class Meta:
        model = RoleAssignment

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.TREASURER


class AuditEntryFactory(Factory):
    class Meta:
        model = AuditEntry

    action = "update"
    table_name = "parties"
    row_id = 1
    organisation = factory.SubFactory(OrganisationFactory)


# --- affiliations and lifecycles ------------------------------------------------------------

class AffiliationFactory(Factory):
    """A running term: Anne-Sophie Le Bihan, say, treasurer since 2024."""

    class Meta:
        model = Affiliation

    organisation = factory.SubFactory(OrganisationFactory)
    party = factory.SubFactory(ProfessionalFactory)
    role = AffiliationRole.BOARD_MEMBER
    starts_on = date(2024, 6, 15)


class TaskFactory(Factory):
    class Meta:
        model = Task

    organisation = factory.SubFactory(OrganisationFactory)
    requested_by = factory.SubFactory(UserFactory)
    kind = "membership.export"
    label = "Export des adhérents (CSV)"
    job_name = "jobs.membership.export_members"
    params = factory.LazyFunction(dict)


class StatusChangeFactory(Factory):
    """A recorded move (by default a task that started): what ``lifecycle.move`` writes."""

    class Meta:
        model = StatusChange

    subject_table = "tasks"
    subject_id = factory.Sequence(lambda n: n + 1)
    organisation = factory.SubFactory(OrganisationFactory)
    from_status = "queued"
    to_status = "running"
    reason = None


# --- mail -----------------------------------------------------------------------------------

class OutboxMessageFactory(Factory):
    class Meta:
        model = OutboxMessage

    sender = "ne-pas-repondre@maillage.example"
    recipient = factory.Sequence(lambda n: f"adherent{n}@example.org")
    subject = "Votre lien de connexion à Maillage"
    body = "Bonjour Hélène,\n\nVoici votre lien de connexion."


class OutgoingMailFactory(Factory):
    class Meta:
        model = OutgoingMail

    recipient = factory.Sequence(lambda n: f"adherent{n}@example.org")
    subject = "Appel de cotisation 2026"
    body = "Bonjour Loïc,\n\nVotre cotisation 2026 (30,00 €) est à régler."


# --- banking --------------------------------------------------------------------------------

class BankAccountFactory(Factory):
    class Meta:
        model = BankAccount

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Livret associatif n° {n}")
    iban = "FR7630006000011234567890189"
    bic = "AGRIFRPP"
    journal_code = "BQ2"
    ledger_account = "512200"
    is_default = False


class BankStatementFactory(Factory):
    class Meta:
        model = BankStatement

    bank_account = factory.SubFactory(BankAccountFactory)
    organisation_id = factory.SelfAttribute("bank_account.organisation_id")
    filename = "relevé-février-2026.csv"
    file_format = "csv"


class BankStatementLineFactory(Factory):
    class Meta:
        model = BankStatementLine

    statement = factory.SubFactory(BankStatementFactory)
    bank_account = factory.SelfAttribute("statement.bank_account")
    organisation_id = factory.SelfAttribute("statement.organisation_id")
    booked_on = date(2026, 2, 3)
    amount = Decimal("30.00")
    label = "VIR SEPA M. LOÏC D'ARVOR ADH26-7KQ4M"
    fingerprint = factory.Sequence(lambda n: f"{n:064d}")


class BankCsvLayoutFactory(Factory):
    """The columns of a Crédit Agricole export, as the treasurer mapped them once."""

    class Meta:
        model = BankCsvLayout

    bank_account = factory.SubFactory(BankAccountFactory)
    organisation_id = factory.SelfAttribute("bank_account.organisation_id")
    signature = factory.Sequence(lambda n: f"{n:064x}")
    columns = factory.LazyFunction(lambda: ["Date", "Libellé", "Débit euros", "Crédit euros"])
    mapping = factory.LazyFunction(lambda: {"date": "Date", "label": "Libellé", "debit": "Débit euros",
                                            "credit": "Crédit euros"})


class BankLineMatchFactory(Factory):
    class Meta:
        model = BankLineMatch

    line = factory.SubFactory(BankStatementLineFactory)
    organisation_id = factory.SelfAttribute("line.organisation_id")
    target_kind = "grant_applications"
    target_id = 1
    amount = factory.SelfAttribute("line.amount")


class BankLabelRuleFactory(Factory):
    class Meta:
        model = BankLabelRule

    organisation = factory.SubFactory(OrganisationFactory)
    keyword = "MAIF"
    folded_keyword = "maif"
    account_number = "616"


class PayeeBankDetailsFactory(Factory):
    class Meta:
        model = PayeeBankDetails

    organisation = factory.SubFactory(OrganisationFactory)
    party = factory.SubFactory(ProfessionalFactory)
    iban = "FR7630004000031234567890143"
    bic = "BNPAFRPPXXX"
    holder_name = "Hélène LE GUÉNNEC"


# --- documents ------------------------------------------------------------------------------

class DocumentTemplateFactory(Factory):
    """The row of an uploaded template (the file itself is the test's business)."""

    class Meta:
        model = DocumentTemplate

    organisation = factory.SubFactory(OrganisationFactory)
    kind = "membership_receipt"
    filename = "reçu-adhésion.docx"
    path = factory.Sequence(lambda n: f"1/templates/receipt-{n}.docx")
    size = 12_345
    sha256 = "0" * 64
    uploaded_at = factory.LazyFunction(utcnow)


class GeneratedDocumentFactory(Factory):
    """A pending document (no file yet): ``generated.issue_document`` is what makes real ones."""

    class Meta:
        model = GeneratedDocument

    organisation = factory.SubFactory(OrganisationFactory)
    kind = "membership_receipt"
    subject_type = "memberships"
    subject_id = factory.Sequence(lambda n: n + 1)


class DocumentSequenceFactory(Factory):
    class Meta:
        model = DocumentSequence

    organisation = factory.SubFactory(OrganisationFactory)
    kind = "membership_receipt"
    year = 2026


# --- membership -----------------------------------------------------------------------------

class MembershipSettingsFactory(Factory):
    class Meta:
        model = MembershipSettings

    organisation = factory.SubFactory(OrganisationFactory)


class MembershipPeriodFactory(Factory):
    class Meta:
        model = MembershipPeriod

    organisation = factory.SubFactory(OrganisationFactory)
    year = factory.Sequence(lambda n: 2026 + n)
    starts_on = factory.LazyAttribute(lambda o: date(o.year, 1, 1))
    ends_on = factory.LazyAttribute(lambda o: date(o.year, 12, 31))


class FeeCategoryFactory(Factory):
    class Meta:
        model = FeeCategory

    period = factory.SubFactory(MembershipPeriodFactory)
    organisation_id = factory.SelfAttribute("period.organisation_id")
    label = "Professionnel de santé libéral"
    amount = Decimal("30.00")
    kind = CategoryKind.OTHER_PROFESSIONAL


class CollegeFactory(Factory):
    class Meta:
        model = College

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Collège des libéraux n° {n}")


class MembershipFactory(Factory):
    """A membership row awaiting payment (``membership.services.create_membership`` is the way
    the application makes them, with its category rules and its audit)."""

    class Meta:
        model = Membership

    period = factory.SubFactory(MembershipPeriodFactory)
    organisation_id = factory.SelfAttribute("period.organisation_id")
    party = factory.SubFactory(ProfessionalFactory)
    amount_due = Decimal("30.00")
    payment_reference = factory.Sequence(lambda n: f"ADH26-F{n:05d}")
    joined_on = date(2026, 1, 10)


class MembershipPaymentFactory(Factory):
    class Meta:
        model = MembershipPayment

    membership = factory.SubFactory(MembershipFactory)
    organisation_id = factory.SelfAttribute("membership.organisation_id")
    method = PaymentMethod.TRANSFER
    amount = Decimal("30.00")
    paid_on = date(2026, 2, 3)


class SepaMandateFactory(Factory):
    class Meta:
        model = SepaMandate

    organisation = factory.SubFactory(OrganisationFactory)
    party = factory.SubFactory(ProfessionalFactory)
    reference = factory.Sequence(lambda n: f"RUM-2026-{n:05d}")
    signed_on = date(2025, 12, 1)
    debtor_name = "Loïc D'ARVOR"
    iban = "FR7630004000031234567890143"
    bic = "BNPAFRPPXXX"


class ChequeDepositFactory(Factory):
    class Meta:
        model = ChequeDeposit

    organisation = factory.SubFactory(OrganisationFactory)
    number = factory.Sequence(lambda n: n + 1)
    deposited_on = date(2026, 2, 10)
    total = Decimal("1234.50")
    cheque_count = 12


class DirectDebitRunFactory(Factory):
    class Meta:
        model = DirectDebitRun

    organisation = factory.SubFactory(OrganisationFactory)
    collection_date = date(2026, 3, 5)
    message_id = factory.Sequence(lambda n: f"MAILLAGE-2026-{n:06d}")
    total = Decimal("90.00")
    payment_count = 3


# --- member portal --------------------------------------------------------------------------

class MembershipReceiptFactory(Factory):
    class Meta:
        model = MembershipReceipt

    membership = factory.SubFactory(MembershipFactory)
    organisation_id = factory.SelfAttribute("membership.organisation_id")
    number = factory.Sequence(lambda n: f"2026-{n + 1:04d}")
    token = factory.Sequence(lambda n: f"{n:064x}")


class ReminderSettingsFactory(Factory):
    class Meta:
        model = ReminderSettings

    organisation = factory.SubFactory(OrganisationFactory)


class ReminderLogFactory(Factory):
    class Meta:
        model = ReminderLog

    period = factory.SubFactory(MembershipPeriodFactory)
    organisation_id = factory.SelfAttribute("period.organisation_id")
    party = factory.SubFactory(ProfessionalFactory)
    kind = "renewal"
    recipient = factory.Sequence(lambda n: f"adherent{n}@example.org")
    sent_at = factory.LazyFunction(utcnow)


class HelloAssoAccountFactory(Factory):
    class Meta:
        model = HelloAssoAccount

    organisation = factory.SubFactory(OrganisationFactory)


class HelloAssoCheckoutFactory(Factory):
    class Meta:
        model = HelloAssoCheckout

    membership = factory.SubFactory(MembershipFactory)
    organisation_id = factory.SelfAttribute("membership.organisation_id")
    checkout_intent_id = factory.Sequence(lambda n: 90_000 + n)
    amount = Decimal("30.00")
    redirect_url = "https://www.helloasso.example/paiement/90000"


class UnmatchedPaymentFactory(Factory):
    class Meta:
        model = UnmatchedPayment

    organisation = factory.SubFactory(OrganisationFactory)
    external_id = factory.Sequence(lambda n: f"HA-{n:08d}")
    amount = Decimal("30.00")
    paid_on = date(2026, 2, 3)


# --- accounting -----------------------------------------------------------------------------

class LedgerFactory(Factory):
    class Meta:
        model = Ledger

    organisation = factory.SubFactory(OrganisationFactory)
    chart = "association"


class AccountFactory(Factory):
    class Meta:
        model = Account

    organisation = factory.SubFactory(OrganisationFactory)
    number = factory.Sequence(lambda n: f"6{n:05d}")
    label = "Fournitures de bureau"


class JournalFactory(Factory):
    class Meta:
        model = Journal

    organisation = factory.SubFactory(OrganisationFactory)
    code = factory.Sequence(lambda n: f"OD{n}")
    label = "Opérations diverses"


class AuxiliaryAccountFactory(Factory):
    class Meta:
        model = AuxiliaryAccount

    account = factory.SubFactory(AccountFactory, number=factory.Sequence(lambda n: f"411{n:03d}"),
                                 label="Adhérents")
    organisation_id = factory.SelfAttribute("account.organisation_id")
    party = factory.SubFactory(ProfessionalFactory)
    number = factory.Sequence(lambda n: f"ADH{n:05d}")
    label = "Hélène LE GUÉNNEC"


class JournalEntryFactory(Factory):
    """A draft entry (posting one is ``accounting.services``' business: balanced, numbered)."""

    class Meta:
        model = JournalEntry

    journal = factory.SubFactory(JournalFactory)
    organisation_id = factory.SelfAttribute("journal.organisation_id")
    fiscal_year = 2026
    entry_date = date(2026, 3, 14)
    piece_ref = factory.Sequence(lambda n: f"F-2026-{n:04d}")
    piece_date = date(2026, 3, 14)
    label = "Achat de fournitures – Bureau Vallée"


class JournalLineFactory(Factory):
    class Meta:
        model = JournalLine

    entry = factory.SubFactory(JournalEntryFactory)
    organisation_id = factory.SelfAttribute("entry.organisation_id")
    account = factory.SubFactory(AccountFactory, organisation=None,
                                 organisation_id=factory.SelfAttribute("..organisation_id"))
    debit = Decimal("42.90")
    credit = Decimal("0.00")


class EntrySequenceFactory(Factory):
    class Meta:
        model = EntrySequence

    organisation = factory.SubFactory(OrganisationFactory)
    fiscal_year = 2026


class AccountTotalFactory(Factory):
    """A month of an account's totals (the posting trigger keeps the real ones)."""

    class Meta:
        model = AccountTotal

    class Params:  # the key holds the account's id: the model declares no relationship
        account = factory.SubFactory(AccountFactory)

    account_id = factory.SelfAttribute("account.id")
    organisation_id = factory.SelfAttribute("account.organisation_id")
    month = date(2026, 3, 1)
    fiscal_year = 2026
    auxiliary_key = 0
    debit = Decimal("1250.40")
    credit = Decimal("30.00")


class PostingRuleFactory(Factory):
    class Meta:
        model = PostingRule

    organisation = factory.SubFactory(OrganisationFactory)
    event = factory.Sequence(lambda n: f"test_event_{n}")


class PaymentMethodRuleFactory(Factory):
    class Meta:
        model = PaymentMethodRule

    journal = factory.SubFactory(JournalFactory)
    organisation_id = factory.SelfAttribute("journal.organisation_id")
    account = factory.SubFactory(AccountFactory, organisation=None,
                                 organisation_id=factory.SelfAttribute("..organisation_id"),
                                 number="511200", label="Chèques à encaisser")
    method = factory.Sequence(lambda n: f"method{n}")


class ClosedPeriodFactory(Factory):
    class Meta:
        model = ClosedPeriod

    organisation = factory.SubFactory(OrganisationFactory)
    kind = "month"
    start_date = date(2026, 1, 1)
    end_date = date(2026, 1, 31)


class ExportRecordFactory(Factory):
    class Meta:
        model = ExportRecord

    organisation = factory.SubFactory(OrganisationFactory)
    start_date = date(2026, 1, 1)
    end_date = date(2026, 12, 31)
    fiscal_year = 2026
    fmt = "csv"
    encoding = "utf-8-sig"
    filename = "cpts-journal-20260101-20261231.csv"
    sha256 = "0" * 64


class BudgetLineFactory(Factory):
    class Meta:
        model = BudgetLine

    organisation = factory.SubFactory(OrganisationFactory)
    fiscal_year = 2026
    account_prefix = factory.Sequence(lambda n: f"62{n:02d}")
    label = "Honoraires de l'expert-comptable"
    amount = Decimal("1800.00")


# --- SISA remuneration (backoffice/sisa) -------------------------------------------------------


def _sisa_id(o):
    return OrganisationFactory(kind=OrganisationKind.SISA, name="SISA du Pays de Mayenne").id


def _professional_id(o):
    return ProfessionalFactory().id


class SisaAssociateFactory(Factory):
    class Meta:
        model = SisaAssociate

    organisation_id = factory.LazyAttribute(_sisa_id)
    party_id = factory.LazyAttribute(_professional_id)
    capital_share = Decimal("150.00")


class SisaIncomeFactory(Factory):
    class Meta:
        model = SisaIncome

    organisation_id = factory.LazyAttribute(_sisa_id)
    year = 2025
    kind = "advance"
    label = "Avance ACI 2025"
    received_on = date(2025, 4, 28)
    amount = Decimal("70560.00")


class SisaDeductionFactory(Factory):
    class Meta:
        model = SisaDeduction

    organisation_id = factory.LazyAttribute(_sisa_id)
    year = 2025
    kind = "accountant"
    label = "Cabinet d'expertise comptable"
    amount = Decimal("3600.00")
    account_number = "6226"


class SisaScenarioFactory(Factory):
    class Meta:
        model = SisaScenario

    organisation_id = factory.LazyAttribute(_sisa_id)
    year = 2025
    name = factory.Sequence(lambda n: f"Règlement intérieur n° {n}")


class SisaKeyFactory(Factory):
    class Meta:
        model = SisaKey

    scenario = factory.SubFactory(SisaScenarioFactory)
    position = factory.Sequence(lambda n: n + 1)
    label = "Part égale"
    percentage = Decimal("100.00")
    basis = "equal"
    prorate_presence = True
    profession_weights = factory.LazyFunction(dict)


class SisaMissionPointsFactory(Factory):
    class Meta:
        model = SisaMissionPoints

    organisation_id = factory.LazyAttribute(_sisa_id)
    year = 2025
    party_id = factory.LazyAttribute(_professional_id)
    label = "Référent protocole AVK"
    points = Decimal("2.00")


class SisaMeetingFactory(Factory):
    class Meta:
        model = SisaMeeting

    organisation_id = factory.LazyAttribute(_sisa_id)
    held_on = date(2025, 3, 4)
    duration_minutes = 90
    kind = "rcp"
    theme = "RCP patients diabétiques de type 2"


class SisaAttendanceFactory(Factory):
    class Meta:
        model = SisaAttendance

    meeting = factory.SubFactory(SisaMeetingFactory)
    party_id = factory.LazyAttribute(_professional_id)


class SisaDistributionFactory(Factory):
    class Meta:
        model = SisaDistribution

    organisation_id = factory.LazyAttribute(_sisa_id)
    year = 2025
    version = factory.Sequence(lambda n: n + 1)
    scenario_name = "Règlement intérieur 2025"
    distributable = Decimal("88432.00")
    inputs = factory.LazyFunction(dict)


class SisaAciGridFactory(Factory):
    class Meta:
        model = SisaAciGrid

    organisation_id = factory.LazyAttribute(_sisa_id)
    year = factory.Sequence(lambda n: 2020 + n)
    patients = 3120


class SisaAciIndicatorFactory(Factory):
    class Meta:
        model = SisaAciIndicator

    grid = factory.SubFactory(SisaAciGridFactory)
    position = factory.Sequence(lambda n: n + 1)
    label = "Accès aux soins : horaires d'ouverture et soins non programmés"
    fixed_points = Decimal("800")
    variable_points = Decimal("0")
    achievement = Decimal("100")


class SisaRefundFactory(Factory):
    class Meta:
        model = SisaRefund

    distribution = factory.SubFactory(SisaDistributionFactory)
    organisation_id = factory.SelfAttribute("distribution.organisation_id")
    year = factory.SelfAttribute("distribution.year")
    party_id = factory.LazyAttribute(_professional_id)
    amount = Decimal("37.15")


class SisaRefundOffsetFactory(Factory):
    class Meta:
        model = SisaRefundOffset

    refund = factory.SubFactory(SisaRefundFactory)
    organisation_id = factory.SelfAttribute("refund.organisation_id")
    distribution_id = factory.SelfAttribute("refund.distribution_id")
    party_id = factory.SelfAttribute("refund.party_id")
    amount = Decimal("12.40")
    netted_on = date(2026, 6, 2)


class SisaDistributionShareFactory(Factory):
    class Meta:
        model = SisaDistributionShare

    distribution = factory.SubFactory(SisaDistributionFactory)
    party_id = factory.LazyAttribute(_professional_id)
    amount = Decimal("982.58")
    detail = factory.LazyFunction(dict)


# --- Equipment grants (backoffice/grants) -----------------------------------------------------

class GrantProgrammeFactory(Factory):
    class Meta:
        model = GrantProgramme

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Dermatoscopes n° {n}")
    equipment_kind = "Dermatoscope"
    envelope = Decimal("6000.00")
    granted_total = Decimal("0.00")
    ceiling_amount = Decimal("600.00")
    ceiling_rate = Decimal("80.00")
    opens_on = date(2026, 1, 1)
    closes_on = date(2026, 12, 31)
    training_label = "Formation au dépistage du mélanome"
    requires_training = True


class GrantFunderFactory(Factory):
    class Meta:
        model = GrantFunder

    programme = factory.SubFactory(GrantProgrammeFactory)
    name = "ARS Pays de la Loire — FIR"
    amount = Decimal("5000.00")
    reference = factory.Sequence(lambda n: f"FIR 2026-{n:03d}")


class GrantApplicationFactory(Factory):
    class Meta:
        model = GrantApplication

    programme = factory.SubFactory(GrantProgrammeFactory)
    organisation_id = factory.SelfAttribute("programme.organisation_id")
    applicant = factory.SubFactory(ProfessionalFactory, profession="medecin_generaliste")
    status = GrantStatus.DRAFT
    equipment_kind = "Dermatoscope"
    equipment_model = "HEINE DELTA 30"
    quoted_price = Decimal("749.90")
    amount_requested = Decimal("599.92")
    training_on = date(2026, 2, 3)


class GrantAttachmentFactory(Factory):
    class Meta:
        model = GrantAttachment

    application = factory.SubFactory(GrantApplicationFactory)
    kind = AttachmentKind.QUOTE
    filename = "devis-dermatoscope.pdf"
    content_type = "application/pdf"
    size = 48213
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    stored_name = factory.Sequence(lambda n: f"devis-{n}.pdf")


class GrantFollowUpFactory(Factory):
    class Meta:
        model = GrantFollowUp

    application = factory.SubFactory(GrantApplicationFactory)
    year = 2026
    quarter = factory.Sequence(lambda n: n % 4 + 1)
    screenings = 14
    referrals = 2


class GrantFollowUpReminderFactory(Factory):
    class Meta:
        model = GrantFollowUpReminder

    application = factory.SubFactory(GrantApplicationFactory)
    year = 2026
    quarter = 3
    recipient = "dr.le-gall@example.org"


class GrantDeviceFactory(Factory):
    """A dermatoscope bought for an in-kind programme, in stock (its purchase not posted: the
    services post it; this makes the row only)."""

    class Meta:
        model = GrantDevice

    programme = factory.SubFactory(GrantProgrammeFactory, mode=ProgrammeMode.IN_KIND, depreciation_years=3)
    organisation_id = factory.SelfAttribute("programme.organisation_id")
    status = DeviceStatus.IN_STOCK
    equipment_kind = "Dermatoscope"
    equipment_model = "HEINE DELTA 30"
    serial_number = factory.Sequence(lambda n: f"HD30-2026-{n:04d}")
    purchased_on = date(2026, 3, 16)
    purchase_amount = Decimal("749.90")
    supplier = factory.SubFactory(StructureFactory, name="Medisafe France", structure_type="autre")
    invoice_reference = factory.Sequence(lambda n: f"FA-2026-{n:05d}")


class GrantDeviceCustodyFactory(Factory):
    class Meta:
        model = GrantDeviceCustody

    device = factory.SubFactory(GrantDeviceFactory)
    application = factory.SubFactory(GrantApplicationFactory, programme=factory.SelfAttribute("..device.programme"))
    site = factory.SubFactory(SiteFactory, name="Cabinet médical du Croisic", commune="Le Croisic")
    started_on = date(2026, 4, 1)


# --- assemblies -----------------------------------------------------------------------------

class AssemblyFactory(Factory):
    """An AGO in draft (``assemblies.services`` convenes it, freezes its roll and opens votes)."""

    class Meta:
        model = Assembly

    organisation = factory.SubFactory(OrganisationFactory)
    title = "Assemblée générale ordinaire 2026"
    held_at = datetime(2026, 6, 8, 18, 30)
    cut_off = date(2026, 5, 20)


class AssemblyVoterFactory(Factory):
    class Meta:
        model = AssemblyVoter

    assembly = factory.SubFactory(AssemblyFactory)
    party = factory.SubFactory(ProfessionalFactory)


class AssemblyExclusionFactory(Factory):
    class Meta:
        model = AssemblyExclusion

    assembly = factory.SubFactory(AssemblyFactory)
    party = factory.SubFactory(ProfessionalFactory)
    reason = "not_paid"
    reason_label = "Cotisation non payée"


class ResolutionFactory(Factory):
    class Meta:
        model = Resolution

    assembly = factory.SubFactory(AssemblyFactory)
    title = "Approbation des comptes de l'exercice 2025"


class OpenResolutionFactory(ResolutionFactory):
    """A resolution whose vote is open: the database takes ballots only for those."""

    status = ResolutionStatus.OPEN


class AttendanceFactory(Factory):
    class Meta:
        model = Attendance

    voter = factory.SubFactory(AssemblyVoterFactory)
    assembly = factory.SelfAttribute("voter.assembly")


class ProxyFactory(Factory):
    """Loïc gives his *pouvoir* to Anne."""

    class Meta:
        model = Proxy

    giver = factory.SubFactory(AssemblyVoterFactory)
    assembly = factory.SelfAttribute("giver.assembly")
    holder = factory.SubFactory(AssemblyVoterFactory, assembly=factory.SelfAttribute("..assembly"))


class ParticipationFactory(Factory):
    class Meta:
        model = Participation

    resolution = factory.SubFactory(OpenResolutionFactory)
    voter = factory.SubFactory(AssemblyVoterFactory, assembly=factory.SelfAttribute("..resolution.assembly"))


class OpenVoteFactory(Factory):
    class Meta:
        model = OpenVote

    resolution = factory.SubFactory(OpenResolutionFactory)
    voter = factory.SubFactory(AssemblyVoterFactory, assembly=factory.SelfAttribute("..resolution.assembly"))
    cast_by_id = factory.SelfAttribute("voter.id")
    choice = Choice.FOR
    receipt = factory.Sequence(lambda n: f"V-{n:06d}")


class SecretBallotFactory(Factory):
    class Meta:
        model = SecretBallot

    resolution = factory.SubFactory(OpenResolutionFactory)
    position = factory.Sequence(lambda n: n + 1)
    choice = Choice.AGAINST
    nonce = factory.Sequence(lambda n: f"{n:032x}")
    previous_hash = "0" * 64
    hash = factory.Sequence(lambda n: f"{n:064x}")
    receipt = factory.Sequence(lambda n: f"S-{n:06d}")



class ResolutionDocumentFactory(Factory):
    class Meta:
        model = ResolutionDocument

    resolution = factory.SubFactory(ResolutionFactory)
    title = "Comptes annuels 2025"
    filename = "comptes-2025.pdf"
    content_type = "application/pdf"
    size = 48213
    sha256 = "9f" * 32
    stored_name = factory.Sequence(lambda n: f"{n:032x}.pdf")


class SealedBallotFactory(Factory):
    """A ballot waiting sealed for the close of an open vote (the bytes are opaque here)."""

    class Meta:
        model = SealedBallot

    resolution = factory.SubFactory(OpenResolutionFactory)
    token = factory.Sequence(lambda n: f"{n:032x}")
    sealed = b"\x00" * 60
