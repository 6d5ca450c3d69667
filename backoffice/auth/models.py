import secrets
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.extensions import db
from backoffice.models import TimestampMixin


class Role(StrEnum):
    ADMIN = "admin"
    TREASURER = "treasurer"
    BOARD = "board"
    ACCOUNTANT = "accountant"
    MEMBER = "member"

    @property
    def label(self):
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: "Administrateur",
    Role.TREASURER: "Trésorier",
    Role.BOARD: "Membre du bureau",
    Role.ACCOUNTANT: "Expert-comptable",
    Role.MEMBER: "Adhérent",
}
STAFF_ROLES = frozenset({Role.ADMIN, Role.TREASURER, Role.BOARD, Role.ACCOUNTANT})


class User(UserMixin, TimestampMixin, db.Model):
    """Someone who signs in: staff with a password, members with a link by e-mail."""

    __tablename__ = "users"
    __global__ = True  # one account, roles in several organisations
    __audited__ = True
    __audit_exclude__ = {"password_hash", "login_nonce", "failed_logins", "locked_until", "last_login_at"}

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Changes at every sign-in, which makes an already used sign-in link worthless.
    login_nonce: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))

    party = relationship("Party")
    roles = relationship("RoleAssignment", back_populates="user", cascade="all, delete-orphan")

    @property
    def is_active(self):
        return self.active

    @property
    def invitation_pending(self):
        """A staff account whose owner has not chosen a password yet (members sign in by link)."""
        return self.active and not self.password_hash and any(a.role in STAFF_ROLES for a in self.roles)

    def roles_in(self, organisation):
        return {a.role for a in self.roles if a.organisation_id == organisation.id}

    @property
    def organisations(self):
        seen = {}
        for assignment in self.roles:
            seen.setdefault(assignment.organisation_id, assignment.organisation)
        return sorted(seen.values(), key=lambda o: o.name)

    def __str__(self):
        return self.full_name or self.email


class RoleAssignment(TimestampMixin, db.Model):
    __tablename__ = "role_assignments"
    __audited__ = True
    __table_args__ = (UniqueConstraint("user_id", "organisation_id", "role", name="uq_role_assignments_user_org_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )

    user = relationship(User, back_populates="roles")
    organisation = relationship("Organisation")

    def __str__(self):
        return f"{self.role.label} — {self.user}"
