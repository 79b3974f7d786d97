"""API keys: who may call the service, and with which role.

Each caller gets its own key with one role; roles are ordered, each allowing what the one before
it does and more:

- ``intake``: triage tickets and read decisions, articles and search (the intake system);
- ``agent``: also record feedback (L1 agents' tools);
- ``editor``: also write articles and read the gap worklist and the reports (KB editors, leads);
- ``admin``: also change routing rules, train, promote and roll back models.

Only a SHA-256 hash of a key is stored; the key itself is shown once, when it is created. While no
active key exists (a fresh install, the demo) the API is open, unless the deployment requires keys
(``KBTRIAGE_REQUIRE_API_KEY``); creating the first key switches checking on.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kbtriage.db import Base, utcnow
from kbtriage.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationError

ROLES = ("intake", "agent", "editor", "admin")
KEY_PREFIX = "kbt_"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # the key's first characters, to tell keys apart
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def view(row: ApiKey) -> dict:
    return {"name": row.name, "role": row.role, "prefix": row.prefix,
            "created_at": row.created_at.isoformat() if row.created_at else None,
            "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None}


def create(*, session: Session, name: str, role: str) -> tuple[ApiKey, str]:
    """A new key for ``name`` with ``role``: (the stored row, the key, which is not stored)."""
    if role not in ROLES:
        raise ValidationError(f"role must be one of {', '.join(ROLES)}", field="role")
    if not NAME.match(name or ""):
        raise ValidationError("name: 1-100 letters, digits, '_', '.', '@' or '-'", field="name")
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise Conflict(f"a key named {name!r} exists; revoke it or choose another name", field="name")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(name=name, role=role, key_hash=_hash(key), prefix=key[:12])
    session.add(row)
    session.commit()
    return row, key


def revoke(*, session: Session, name: str) -> ApiKey:
    """Revoke the key named ``name``; it stops working at once."""
    row = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if row is None:
        raise NotFound(f"no API key named {name!r}", field="name")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.commit()
    return row


def list_keys(*, session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def checking(*, session: Session, required: bool) -> bool:
    """Whether requests must carry a key: always when ``required``, else once an active key exists."""
    return required or session.scalar(select(ApiKey.id).where(ApiKey.revoked_at.is_(None)).limit(1)) is not None


def authorize(*, session: Session, key: str | None, needs: str) -> ApiKey:
    """The active key ``key`` if its role allows ``needs`` (a role); Unauthorized or Forbidden if not."""
    if not key:
        raise Unauthorized("this endpoint needs an API key: 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
                           field="Authorization")
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == _hash(key)))
    if row is None or row.revoked_at is not None:
        raise Unauthorized("unknown or revoked API key", field="Authorization")
    if ROLES.index(row.role) < ROLES.index(needs):
        raise Forbidden(f"key {row.name!r} has role {row.role!r}; this needs {needs!r} or above",
                        field="Authorization")
    return row
