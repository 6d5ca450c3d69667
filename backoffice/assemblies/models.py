"""General assemblies: the assembly and its statutes' settings, the frozen voter roll, the
resolutions, proxies, attendance, and the votes (open votes by voter; secret ballots apart from
who took part).

Secrecy of a secret ballot: ``assembly_participations`` says *who* used a voting right on a
resolution (no timestamp, no surrogate id: its key is the pair), ``assembly_secret_ballots`` says
*what* was put in the box (no voter, no timestamp; its position in the resolution's chain only).
Neither table is audited. A row written in the same transaction as a participation would share
its ``xmin`` on PostgreSQL (and follow it in the heap), so an online secret ballot waits, sealed
(AES-GCM under a key derived from SECRET_KEY, fixed length), in ``assembly_sealed_ballots``,
written with the participation; the close unseals the whole inbox, shuffles it and chains it into
the box in one transaction, then empties the inbox: every ballot of the box then carries the
close's ``xmin``, and its position says nothing of when its voter voted. The participation's
primary key is also what guarantees, in the database, one ballot per voting right and
resolution, open or secret.
"""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, Date, DateTime, Enum, ForeignKey, Index, Integer,
                        LargeBinary, String, Text, UniqueConstraint, false)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.extensions import db
from backoffice.errors import ServiceError
from backoffice.lifecycle import Lifecycle, LifecycleError
from backoffice.models import TimestampMixin, utcnow


def _enum(cls, length=20):
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class AssemblyError(ServiceError):
    """A rule of general assemblies is broken; French message, ``field`` the form field."""


class AssemblyLifecycleError(LifecycleError, AssemblyError):
    """A status change of an assembly or a resolution that its machine refuses."""


class AssemblyKind(StrEnum):
    ORDINARY = "ordinary"
    EXTRAORDINARY = "extraordinary"

    @property
    def label(self):
        return {"ordinary": "Assemblée générale ordinaire", "extraordinary": "Assemblée générale extraordinaire"}[self]

    @property
    def short(self):
        return {"ordinary": "AGO", "extraordinary": "AGE"}[self]


class AssemblyStatus(StrEnum):
    DRAFT = "draft"
    CONVENED = "convened"
    IN_SESSION = "in_session"
    CLOSED = "closed"
    MINUTES_ISSUED = "minutes_issued"

    @property
    def label(self):
        return {"draft": "En préparation", "convened": "Convoquée", "in_session": "En séance",
                "closed": "Close", "minutes_issued": "Procès-verbal établi"}[self]


S = AssemblyStatus
ASSEMBLY_LIFECYCLE = Lifecycle("assembly", {
    S.DRAFT: {S.CONVENED},
    S.CONVENED: {S.IN_SESSION},
    S.IN_SESSION: {S.CLOSED},
    S.CLOSED: {S.MINUTES_ISSUED},
    S.MINUTES_ISSUED: set(),
}, noun="l'assemblée", verbs={(S.DRAFT, S.CONVENED): "Convoquer", (S.CONVENED, S.IN_SESSION): "Ouvrir la séance",
                              (S.IN_SESSION, S.CLOSED): "Clore la séance"},
   error=AssemblyLifecycleError)


class MajorityRule(StrEnum):
    SIMPLE = "simple"                # more for than against among the votes cast
    TWO_THIRDS = "two_thirds"        # for ≥ 2/3 of the votes cast
    ABSOLUTE_VOTERS = "absolute"     # for > half of the voters (present, represented or not)

    @property
    def label(self):
        return {"simple": "Majorité simple des suffrages exprimés",
                "two_thirds": "Majorité des deux tiers des suffrages exprimés",
                "absolute": "Majorité absolue des votants inscrits"}[self]


class ResolutionStatus(StrEnum):
    PENDING = "pending"
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self):
        return {"pending": "À voter", "open": "Vote ouvert", "closed": "Vote clos"}[self]


R = ResolutionStatus
RESOLUTION_LIFECYCLE = Lifecycle("resolution", {R.PENDING: {R.OPEN}, R.OPEN: {R.CLOSED}, R.CLOSED: set()},
                                 noun="le vote", verbs={(R.PENDING, R.OPEN): "Ouvrir le vote",
                                                        (R.OPEN, R.CLOSED): "Clore le vote"},
                                 error=AssemblyLifecycleError)


class Choice(StrEnum):
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"

    @property
    def label(self):
        return {"for": "Pour", "against": "Contre", "abstain": "Abstention"}[self]


class AttendanceMode(StrEnum):
    ROOM = "room"
    ONLINE = "online"

    @property
    def label(self):
        return {"room": "En salle", "online": "En ligne"}[self]


@ASSEMBLY_LIFECYCLE.bind
class Assembly(TimestampMixin, db.Model):
    """An assemblée générale of an organisation, with the settings its statutes give it."""

    __tablename__ = "assemblies"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("convocation IN (1, 2)", name="convocation"),
        CheckConstraint("(quorum_numerator IS NULL AND quorum_denominator IS NULL) OR "
                        "(quorum_numerator > 0 AND quorum_denominator >= quorum_numerator)", name="quorum"),
        CheckConstraint("max_proxies >= 0", name="max_proxies"),
        CheckConstraint("notice_days >= 0", name="notice_days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[AssemblyKind] = mapped_column(_enum(AssemblyKind), default=AssemblyKind.ORDINARY)
    convocation: Mapped[int] = mapped_column(Integer, default=1)
    # The first convocation this one follows (its quorum failed).
    first_id: Mapped[int | None] = mapped_column(ForeignKey("assemblies.id", ondelete="SET NULL"), index=True)
    status: Mapped[AssemblyStatus] = mapped_column(_enum(AssemblyStatus), default=AssemblyStatus.DRAFT)
    held_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))  # local time of the meeting
    place: Mapped[str | None] = mapped_column(String(250))
    video_link: Mapped[str | None] = mapped_column(String(500))
    cut_off: Mapped[date] = mapped_column(Date)
    # Only the members of this collège vote (None: every collège).
    college_id: Mapped[int | None] = mapped_column(ForeignKey("membership_colleges.id", ondelete="SET NULL"))
    # Statutes' settings.
    college_weights: Mapped[dict | None] = mapped_column(JSON)  # {"<college id>": weight}; None: one voter, one vote
    quorum_numerator: Mapped[int | None] = mapped_column(Integer)
    quorum_denominator: Mapped[int | None] = mapped_column(Integer)
    second_without_quorum: Mapped[bool] = mapped_column(Boolean, default=True)
    abstentions_count: Mapped[bool] = mapped_column(Boolean, default=False)
    chair_casting_vote: Mapped[bool] = mapped_column(Boolean, default=False)
    max_proxies: Mapped[int] = mapped_column(Integer, default=2)
    notice_days: Mapped[int] = mapped_column(Integer, default=15)
    # What happened.
    convened_on: Mapped[date | None] = mapped_column(Date)
    convocation_task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)

    organisation = relationship("Organisation")
    first = relationship("Assembly", remote_side=[id])
    resolutions = relationship("Resolution", back_populates="assembly", order_by="Resolution.position",
                               cascade="all, delete-orphan")
    voters = relationship("AssemblyVoter", back_populates="assembly", cascade="all, delete-orphan",
                          order_by="AssemblyVoter.sort_name")
    exclusions = relationship("AssemblyExclusion", back_populates="assembly", cascade="all, delete-orphan",
                              order_by="AssemblyExclusion.sort_name")

    @property
    def has_quorum_rule(self):
        return self.quorum_numerator is not None

    @property
    def quorum_label(self):
        if not self.has_quorum_rule:
            return "Sans quorum"
        return f"{self.quorum_numerator}/{self.quorum_denominator} des votants présents ou représentés"

    @property
    def roll_frozen(self):
        return self.status is not AssemblyStatus.DRAFT

    def __str__(self):
        return self.title


class AssemblyVoter(db.Model):
    """A line of the frozen voter roll: a member in good standing at the cut-off, and his weight."""

    __tablename__ = "assembly_voters"
    __audited__ = True
    __scoped_through__ = "assembly"
    __table_args__ = (UniqueConstraint("assembly_id", "party_id", name="uq_assembly_voters_party"),
                      CheckConstraint("weight > 0", name="weight"))

    id: Mapped[int] = mapped_column(primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assemblies.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    membership_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    college_id: Mapped[int | None] = mapped_column(ForeignKey("membership_colleges.id", ondelete="SET NULL"))
    college_name: Mapped[str | None] = mapped_column(String(100))
    sort_name: Mapped[str] = mapped_column(String(250), default="")
    weight: Mapped[int] = mapped_column(Integer, default=1)
    convoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    assembly = relationship(Assembly, back_populates="voters")
    party = relationship("Party")

    def __str__(self):
        return self.party.display_name if self.party else f"Votant {self.id}"


class AssemblyExclusion(db.Model):
    """A member not on the frozen roll, and why (frozen with the roll)."""

    __tablename__ = "assembly_exclusions"
    __audited__ = True
    __scoped_through__ = "assembly"

    id: Mapped[int] = mapped_column(primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assemblies.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    sort_name: Mapped[str] = mapped_column(String(250), default="")
    reason: Mapped[str] = mapped_column(String(20))
    reason_label: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(String(250), default="")

    assembly = relationship(Assembly, back_populates="exclusions")
    party = relationship("Party")

    def __str__(self):
        return f"Hors liste des votants : {self.party.display_name if self.party else self.party_id} ({self.reason_label})"


@RESOLUTION_LIFECYCLE.bind
class Resolution(TimestampMixin, db.Model):
    """A resolution on the agenda, with its majority rule and, once voted, the room's counts."""

    __tablename__ = "assembly_resolutions"
    __audited__ = True
    __scoped_through__ = "assembly"
    __table_args__ = (CheckConstraint("room_for >= 0 AND room_against >= 0 AND room_abstain >= 0", name="room"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assemblies.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(250))
    text: Mapped[str] = mapped_column(Text, default="")
    majority: Mapped[MajorityRule] = mapped_column(_enum(MajorityRule), default=MajorityRule.SIMPLE)
    secret: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[ResolutionStatus] = mapped_column(_enum(ResolutionStatus), default=ResolutionStatus.PENDING)
    # The show of hands in the room (weighted counts when collèges weigh), entered by the secretary.
    room_for: Mapped[int] = mapped_column(Integer, default=0)
    room_against: Mapped[int] = mapped_column(Integer, default=0)
    room_abstain: Mapped[int] = mapped_column(Integer, default=0)
    # The secret ballot box's last hash (the chain's head), set when the vote closes.
    final_hash: Mapped[str | None] = mapped_column(String(64))
    # The chair's casting vote declared in the room (for / against), used on a tie when the
    # statutes give him one and he did not vote online on an open ballot.
    casting_vote: Mapped[Choice | None] = mapped_column(_enum(Choice, 10))

    assembly = relationship(Assembly, back_populates="resolutions")
    documents = relationship("ResolutionDocument", back_populates="resolution", order_by="ResolutionDocument.id",
                             cascade="all, delete-orphan")

    def __str__(self):
        return f"Résolution {self.position} : {self.title}"


class ResolutionDocument(db.Model):
    """A document attached to a resolution (the accounts, the budget, a report) for the voters to
    read before they vote: PDF, JPEG or PNG checked by its content, kept as uploaded under
    ``STORAGE_DIR/<organisation id>/assemblies/`` with its fingerprint (``assemblies.attachments``)."""

    __tablename__ = "assembly_resolution_documents"
    __audited__ = True
    __scoped_through__ = "resolution"
    __table_args__ = (CheckConstraint("size > 0", name="size_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resolution_id: Mapped[int] = mapped_column(ForeignKey("assembly_resolutions.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))  # « Comptes annuels 2025 », as the voters read it
    filename: Mapped[str] = mapped_column(String(200))  # what they download
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_name: Mapped[str] = mapped_column(String(120), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    resolution = relationship(Resolution, back_populates="documents")

    def __str__(self):
        return f"Document « {self.title} » de la résolution {self.resolution.position if self.resolution else ''}"


class Proxy(TimestampMixin, db.Model):
    """A pouvoir: ``giver`` hands his vote to ``holder`` (both voters of the assembly) until revoked."""

    __tablename__ = "assembly_proxies"
    __audited__ = True
    __scoped_through__ = "assembly"
    __table_args__ = (
        CheckConstraint("giver_id <> holder_id", name="not_self"),
        Index("uq_assembly_proxies_standing", "assembly_id", "giver_id", unique=True,
              sqlite_where=db.text("revoked_at IS NULL"), postgresql_where=db.text("revoked_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assemblies.id", ondelete="CASCADE"), index=True)
    giver_id: Mapped[int] = mapped_column(ForeignKey("assembly_voters.id", ondelete="CASCADE"), index=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("assembly_voters.id", ondelete="CASCADE"), index=True)
    blank: Mapped[bool] = mapped_column(Boolean, default=False)  # given en blanc: to the chair
    source: Mapped[str] = mapped_column(String(10), default="paper")  # paper (secretary) or online (member)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    assembly = relationship(Assembly)
    giver = relationship(AssemblyVoter, foreign_keys=[giver_id])
    holder = relationship(AssemblyVoter, foreign_keys=[holder_id])

    def __str__(self):
        return f"Pouvoir de {self.giver} à {self.holder}"


class Attendance(db.Model):
    """A voter signed in, in the room (by staff) or online (by himself)."""

    __tablename__ = "assembly_attendances"
    __audited__ = True
    __scoped_through__ = "assembly"
    __table_args__ = (UniqueConstraint("assembly_id", "voter_id", name="uq_assembly_attendances_voter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assemblies.id", ondelete="CASCADE"), index=True)
    voter_id: Mapped[int] = mapped_column(ForeignKey("assembly_voters.id", ondelete="CASCADE"))
    mode: Mapped[AttendanceMode] = mapped_column(_enum(AttendanceMode), default=AttendanceMode.ROOM)
    checked_in_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    assembly = relationship(Assembly)
    voter = relationship(AssemblyVoter)

    def __str__(self):
        return f"Émargement de {self.voter} ({self.mode.label.lower()})"


class Participation(db.Model):
    """A voting right used on a resolution (the voter's own, or a proxy's): the « a voté » list.

    The key (resolution, voter) is the database's guarantee of one ballot per right and
    resolution. No timestamp, no id, not audited: nothing to line it up with a secret ballot.
    """

    __tablename__ = "assembly_participations"
    __scoped_through__ = "resolution"

    resolution_id: Mapped[int] = mapped_column(ForeignKey("assembly_resolutions.id", ondelete="CASCADE"),
                                               primary_key=True)
    voter_id: Mapped[int] = mapped_column(ForeignKey("assembly_voters.id", ondelete="CASCADE"), primary_key=True)

    resolution = relationship(Resolution)
    voter = relationship(AssemblyVoter)


class OpenVote(db.Model):
    """The choice of a voting right on an open (non-secret) resolution, voted online."""

    __tablename__ = "assembly_open_votes"
    __audited__ = True
    __scoped_through__ = "resolution"
    __table_args__ = (UniqueConstraint("resolution_id", "voter_id", name="uq_assembly_open_votes_voter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resolution_id: Mapped[int] = mapped_column(ForeignKey("assembly_resolutions.id", ondelete="CASCADE"), index=True)
    voter_id: Mapped[int] = mapped_column(ForeignKey("assembly_voters.id", ondelete="CASCADE"))
    cast_by_id: Mapped[int] = mapped_column(ForeignKey("assembly_voters.id", ondelete="CASCADE"))
    choice: Mapped[Choice] = mapped_column(_enum(Choice, 10))
    weight: Mapped[int] = mapped_column(Integer, default=1)
    receipt: Mapped[str] = mapped_column(String(20))

    resolution = relationship(Resolution)
    voter = relationship(AssemblyVoter, foreign_keys=[voter_id])

    def __str__(self):
        return f"Vote de {self.voter} : {self.choice.label}"


class SecretBallot(db.Model):
    """A ballot in a secret ballot box: what was voted, never who. Append-only and chained:
    ``hash`` = sha256(previous hash, position, choice, weight, nonce); the receipt derives from it.

    A ``paper`` record is the tellers' count of one choice of the paper ballots of the room,
    chained when the vote closes (``weight``: that total): aggregate, it names nobody."""

    __tablename__ = "assembly_secret_ballots"
    __scoped_through__ = "resolution"

    # No surrogate id: the position in the resolution's chain is the only order there is.
    resolution_id: Mapped[int] = mapped_column(ForeignKey("assembly_resolutions.id", ondelete="CASCADE"),
                                               primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    choice: Mapped[Choice] = mapped_column(_enum(Choice, 10))
    weight: Mapped[int] = mapped_column(Integer, default=1)
    nonce: Mapped[str] = mapped_column(String(32))
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    receipt: Mapped[str] = mapped_column(String(20))
    paper: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    resolution = relationship(Resolution)


class SealedBallot(db.Model):
    """An online secret ballot waiting for the close, sealed: its choice, weight and nonce
    encrypted (fixed length, so the size does not tell the choice), under a random key column.

    Written in the voter's transaction with his participation (so that neither exists without
    the other: no lost ballot, no second one), emptied into the chained box by the close."""

    __tablename__ = "assembly_sealed_ballots"
    __scoped_through__ = "resolution"

    resolution_id: Mapped[int] = mapped_column(ForeignKey("assembly_resolutions.id", ondelete="CASCADE"),
                                               primary_key=True)
    # Random, not a sequence: the key's order is not the order of the votes.
    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)

    resolution = relationship(Resolution)


from backoffice.assemblies import db_guards  # noqa: E402

db_guards.attach(Resolution.__table__, Participation.__table__, OpenVote.__table__, SecretBallot.__table__,
                 SealedBallot.__table__)
