from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.extensions import db
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
    president_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    treasurer_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    fiscal_year_start_month: Mapped[int] = mapped_column(Integer, default=1)

    president = relationship("Party", foreign_keys=[president_id])
    treasurer = relationship("Party", foreign_keys=[treasurer_id])
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
