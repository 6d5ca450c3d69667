from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.extensions import db
from backoffice.formatting import format_date_short
from backoffice.models import TimestampMixin


class OrganisationKind(StrEnum):
    CPTS = "cpts"
    SISA = "sisa"
    ASSOCIATION = "association"

    @property
    def label(self):
        return {
            "cpts": "CPTS (association loi 1901)",
            "sisa": "SISA (société interprofessionnelle)",
            "association": "Autre association (MSP…)",
        }[self.value]

    @property
    def is_association(self):
        return self is not OrganisationKind.SISA


class Organisation(TimestampMixin, db.Model):
    """A legal body that holds members, money, a ledger and documents."""

    __tablename__ = "organisations"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("fiscal_year_start_month BETWEEN 1 AND 12", name="fiscal_month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(
        Enum(OrganisationKind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    siren: Mapped[str | None] = mapped_column(String(9))
    siret: Mapped[str | None] = mapped_column(String(14))
    rna: Mapped[str | None] = mapped_column(String(10))
    address: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(5))
    city: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    fiscal_year_start_month: Mapped[int] = mapped_column(Integer, default=1)

    # The organisation's bank accounts (backoffice.banking), the default one first.
    bank_accounts = relationship("BankAccount", back_populates="organisation",
                                 order_by="[BankAccount.is_default.desc(), BankAccount.id]")

    @property
    def default_bank_account(self):
        return next((account for account in self.bank_accounts if account.is_default), None)

    # The IBAN and BIC members pay to and the settings page edits are the default bank
    # account's: one place for them (``banking.services.set_default_account_details``).
    @property
    def iban(self):
        account = self.default_bank_account
        return account.iban if account else None

    @iban.setter
    def iban(self, value):
        from backoffice.banking.services import default_account_for_update

        if value or self.default_bank_account:
            default_account_for_update(self).iban = value or None

    @property
    def bic(self):
        account = self.default_bank_account
        return account.bic if account else None

    @bic.setter
    def bic(self, value):
        from backoffice.banking.services import default_account_for_update

        if value or self.default_bank_account:
            default_account_for_update(self).bic = value or None

    def __str__(self):
        return self.name

    def fiscal_year_bounds(self, year):
        """First and last day of the fiscal year that *starts* in ``year``."""
        start = date(year, self.fiscal_year_start_month, 1)
        if self.fiscal_year_start_month == 1:
            return start, date(year, 12, 31)
        return start, date(year + 1, self.fiscal_year_start_month, 1) - timedelta(days=1)

    def fiscal_year_of(self, day):
        """The starting year of the fiscal year that contains ``day``."""
        return day.year if day.month >= self.fiscal_year_start_month else day.year - 1

    @property
    def full_address(self):
        return ", ".join(p for p in (self.address, f"{self.postcode or ''} {self.city or ''}".strip()) if p)


class AffiliationRole(StrEnum):
    """What a party is to an organisation (besides a membership): an office, a share, a contact."""

    PRESIDENT = "president"
    VICE_PRESIDENT = "vice_president"
    SECRETARY = "secretary"
    TREASURER = "treasurer"
    BOARD_MEMBER = "board_member"
    ASSOCIATE = "associate"
    MANAGER = "manager"
    COORDINATOR = "coordinator"
    # In the organisation's directory (created or imported by it) with no other relation yet.
    CONTACT = "contact"

    @property
    def label(self):
        return AFFILIATION_ROLE_LABELS[self]


AFFILIATION_ROLE_LABELS = {
    AffiliationRole.PRESIDENT: "Président(e)",
    AffiliationRole.VICE_PRESIDENT: "Vice-président(e)",
    AffiliationRole.SECRETARY: "Secrétaire",
    AffiliationRole.TREASURER: "Trésorier(ère)",
    AffiliationRole.BOARD_MEMBER: "Membre du bureau",
    AffiliationRole.ASSOCIATE: "Associé(e)",
    AffiliationRole.MANAGER: "Gérant(e)",
    AffiliationRole.COORDINATOR: "Coordinateur(rice)",
    AffiliationRole.CONTACT: "Contact de l'annuaire",
}


class Affiliation(TimestampMixin, db.Model):
    """A party's role in an organisation from ``starts_on`` to ``ends_on`` (the last day, included;
    None: still). A CPTS's board, a SISA's associates, the organisation's directory contacts.
    Written through ``backoffice.organisations.affiliations`` only."""

    __tablename__ = "affiliations"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates"),
        Index("ix_affiliations_org_role", "organisation_id", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    role: Mapped[AffiliationRole] = mapped_column(
        Enum(AffiliationRole, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e],
             validate_strings=True))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)

    organisation = relationship(Organisation)
    party = relationship("Party")

    def is_current(self, on):
        return self.starts_on <= on and (self.ends_on is None or self.ends_on >= on)

    def __str__(self):
        until = f" au {format_date_short(self.ends_on)}" if self.ends_on else ""
        return (f"{self.role.label} de {self.organisation.name if self.organisation else ''} : "
                f"{self.party.display_name if self.party else ''}, du {format_date_short(self.starts_on)}{until}")
