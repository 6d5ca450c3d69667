from enum import StrEnum

from sqlalchemy import JSON, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.extensions import db
from backoffice.models import TimestampMixin
from backoffice.people.professions import PROFESSIONS_BY_CODE, SITE_KIND_LABELS, STRUCTURE_TYPE_LABELS


class PartyKind(StrEnum):
    PROFESSIONAL = "professional"
    STRUCTURE = "structure"


class Site(TimestampMixin, db.Model):
    """A place where professionals practise: an MSP or a satellite practice."""

    __tablename__ = "sites"
    __global__ = True  # the shared directory of the territory
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="msp")
    address: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(5))
    commune: Mapped[str | None] = mapped_column(String(100))

    professionals = relationship("Professional", back_populates="site")

    @property
    def kind_label(self):
        return SITE_KIND_LABELS.get(self.kind, self.kind)

    def __str__(self):
        return self.name


class Party(TimestampMixin, db.Model):
    """Anyone the organisations deal with: a professional or a structure.

    One directory shared by all organisations; memberships, ledger auxiliary
    accounts and grants point here, whatever the kind.
    """

    __tablename__ = "parties"
    __global__ = True  # the shared directory of the territory
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[PartyKind] = mapped_column(
        Enum(PartyKind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    email: Mapped[str | None] = mapped_column(String(200), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(5))
    commune: Mapped[str | None] = mapped_column(String(100), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    # Lower-cased, accent-free name used for search and sorting on every database.
    sort_name: Mapped[str] = mapped_column(String(250), index=True, default="")

    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_abstract": True}

    @property
    def display_name(self):
        raise NotImplementedError

    def __str__(self):
        return self.display_name


class Professional(Party):
    civility: Mapped[str | None] = mapped_column(String(5), nullable=True)
    first_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    last_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    profession: Mapped[str | None] = mapped_column(String(40), nullable=True)
    rpps: Mapped[str | None] = mapped_column(String(11), unique=True, nullable=True)
    adeli: Mapped[str | None] = mapped_column(String(9), unique=True, nullable=True)

    site = relationship(Site, back_populates="professionals")

    __mapper_args__ = {"polymorphic_identity": PartyKind.PROFESSIONAL}

    @property
    def display_name(self):
        return f"{self.first_name or ''} {(self.last_name or '').upper()}".strip()

    @property
    def formal_name(self):
        return f"{self.civility or ''} {self.display_name}".strip()

    @property
    def profession_label(self):
        profession = PROFESSIONS_BY_CODE.get(self.profession)
        return profession.label if profession else (self.profession or "")

    @property
    def is_physician(self):
        profession = PROFESSIONS_BY_CODE.get(self.profession)
        return bool(profession and profession.is_physician)


class Structure(Party):
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    structure_type: Mapped[str | None] = mapped_column(String(20), nullable=True)
    siren: Mapped[str | None] = mapped_column(String(9), nullable=True)
    siret: Mapped[str | None] = mapped_column(String(14), unique=True, nullable=True)

    __mapper_args__ = {"polymorphic_identity": PartyKind.STRUCTURE}

    @property
    def display_name(self):
        return self.name or ""

    formal_name = display_name

    @property
    def structure_type_label(self):
        return STRUCTURE_TYPE_LABELS.get(self.structure_type, self.structure_type or "")


class ImportLayout(TimestampMixin, db.Model):
    """What the treasurer chose in an import's preview for one file layout of her organisation:
    which column is which field (``columns``: ``{"index": field or null}``), and what an
    ambiguous profession of her files means (``professions``: ``{folded text: code}``)."""

    __tablename__ = "people_import_layouts"
    __table_args__ = (UniqueConstraint("organisation_id", "layout", name="uq_people_import_layouts_org_layout"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    layout: Mapped[str] = mapped_column(String(500))  # importer.layout_of(headers)
    columns: Mapped[dict] = mapped_column(JSON, default=dict)
    professions: Mapped[dict] = mapped_column(JSON, default=dict)


def fold_for_search(text):
    """Lower-case, accent-free text: what search and sort compare on every database."""
    import unicodedata

    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return " ".join(text.lower().split())


@db.event.listens_for(Party, "before_insert", propagate=True)
@db.event.listens_for(Party, "before_update", propagate=True)
def _set_sort_name(mapper, connection, party):
    if isinstance(party, Professional):
        party.sort_name = fold_for_search(f"{party.last_name or ''} {party.first_name or ''}")
    else:
        party.sort_name = fold_for_search(party.name)
