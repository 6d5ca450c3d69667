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
    iban: Mapped[str | None] = mapped_column(String(34))
    bic: Mapped[str | None] = mapped_column(String(11))
    president_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    treasurer_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    fiscal_year_start_month: Mapped[int] = mapped_column(Integer, default=1)

    president = relationship("Party", foreign_keys=[president_id])
    treasurer = relationship("Party", foreign_keys=[treasurer_id])

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
