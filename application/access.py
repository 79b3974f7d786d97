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

A key may expire (``expires_in_days`` at creation). An expired key is refused with the code
``key_expired``, but it still counts as a key for checking: keys running out never open the API
again (revoking every key does, deliberately). Each key records when it was last used (to the
nearest ``LAST_USED_EVERY``), so an admin rotating keys can see when an old one fell silent.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from common.db import Base, as_utc, utcnow
from common.locks import API_KEYS, serialise
from common.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationError

ROLES = ("intake", "agent", "editor", "admin")
KEY_PREFIX = "kbt_"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")
MAX_EXPIRY_DAYS = 3650
# A key's last use is written at most this often, so checking a key is not a write per request.
LAST_USED_EVERY = timedelta(minutes=5)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # the key's first characters, to tell keys apart
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    signed_out_at: Mapped[datetime | None] = mapped_column(nullable=True)  # console sessions before this are over

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and as_utc(self.expires_at) <= (now or utcnow())

    def usable(self) -> bool:
        """Neither revoked nor expired: the key opens the API."""
        return self.revoked_at is None and not self.expired()


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def view(row: ApiKey) -> dict:
    iso = lambda t: t.isoformat() if t else None  # noqa: E731
    state = "revoked" if row.revoked_at else "expired" if row.expired() else "active"
    return {"name": row.name, "role": row.role, "prefix": row.prefix, "state": state,
            "created_at": iso(row.created_at), "revoked_at": iso(row.revoked_at),
            "expires_at": iso(row.expires_at), "last_used_at": iso(row.last_used_at)}


def create(*, session: Session, name: str, role: str, expires_in_days: int | None = None) -> tuple[ApiKey, str]:
    """A new key for ``name`` with ``role``, valid for ``expires_in_days`` (None: until revoked):
    (the stored row, the key, which is not stored)."""
    if expires_in_days is not None and (isinstance(expires_in_days, bool) or not isinstance(expires_in_days, int)
                                        or not 1 <= expires_in_days <= MAX_EXPIRY_DAYS):
        raise ValidationError(f"expires_in_days must be a whole number of days from 1 to {MAX_EXPIRY_DAYS}",
                              field="expires_in_days")
    if role not in ROLES:
        raise ValidationError(f"role must be one of {', '.join(ROLES)}", field="role")
    if not NAME.match(name or ""):
        raise ValidationError("name: 1-100 letters, digits, '_', '.', '@' or '-'", field="name")
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise Conflict(f"a key named {name!r} exists; revoke it or choose another name", field="name")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    row = ApiKey(name=name, role=role, key_hash=_hash(key), prefix=key[:12], expires_at=expires)
    session.add(row)
    session.commit()
    return row, key


def revoke(*, session: Session, name: str, keep_an_admin: bool = False) -> ApiKey:
    """Revoke the key named ``name``; it stops working at once. With ``keep_an_admin`` (requests
    over the API), the last usable admin key is refused: revoking it would leave the API with keys
    that no one can manage from it (the CLI on the server still can). Serialised by a lock, so two
    admins revoking each other's keys at once cannot both succeed and leave none."""
    serialise(session, API_KEYS)  # before reading: the other revocation's result must be seen
    row = session.scalar(select(ApiKey).where(ApiKey.name == name).execution_options(populate_existing=True))
    if row is None:
        raise NotFound(f"no API key named {name!r}", field="name")
    if keep_an_admin and row.role == "admin" and row.usable():
        others = session.scalars(select(ApiKey).where(ApiKey.role == "admin", ApiKey.id != row.id)
                                 .execution_options(populate_existing=True))
        if not any(k.usable() for k in others):
            raise Conflict(f"{name!r} is the last usable admin key: create another admin key first, or revoke it "
                           "with `kbtriage api-key revoke` on the server", field="name")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.commit()
    return row


def list_keys(*, session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def checking(*, session: Session, required: bool) -> bool:
    """Whether requests must carry a key: always when ``required``, else once an active key exists."""
    return required or session.scalar(select(ApiKey.id).where(ApiKey.revoked_at.is_(None)).limit(1)) is not None


def admit(*, session: Session, key: str | None, needs: str, required: bool) -> ApiKey | None:
    """The key a request presented, if it may do ``needs``; None when no key is needed (see
    :func:`checking`); Unauthorized or Forbidden otherwise. A request with a key costs one query:
    whether keys are needed at all is asked only when the key presented is not usable."""
    if key:
        try:
            return authorize(session=session, key=key, needs=needs)
        except Unauthorized:
            if checking(session=session, required=required):
                raise
            return None
    if checking(session=session, required=required):
        authorize(session=session, key=None, needs=needs)  # raises: no key
    return None


def authorize(*, session: Session, key: str | None, needs: str) -> ApiKey:
    """The active key ``key`` if its role allows ``needs`` (a role); Unauthorized or Forbidden if not."""
    if not key:
        raise Unauthorized("this endpoint needs an API key: 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
                           field="Authorization")
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == _hash(key)))
    if row is None or row.revoked_at is not None:
        raise Unauthorized("unknown or revoked API key", field="Authorization")
    now = utcnow()
    if row.expired(now):
        raise Unauthorized(f"API key {row.name!r} expired at {as_utc(row.expires_at).isoformat()}; ask an admin "
                           "for a new one", field="Authorization", code="key_expired")
    _allow(row, needs)
    if row.last_used_at is None or now - as_utc(row.last_used_at) >= LAST_USED_EVERY:
        row.last_used_at = now
        session.commit()
    return row


def signed_in(*, session: Session, key_id: int, opened_at: datetime, needs: str) -> ApiKey:
    """The key a console session was opened with at ``opened_at``, if it is still usable, the
    session was not signed out since, and the key's role allows ``needs``; Unauthorized (sign in
    again) or Forbidden if not."""
    row = session.get(ApiKey, key_id) if isinstance(key_id, int) else None
    if row is None or not row.usable():
        raise Unauthorized("the key this session was opened with is revoked or expired; sign in again",
                           field="key")
    if row.signed_out_at is not None and opened_at <= as_utc(row.signed_out_at):
        raise Unauthorized("this session was signed out; sign in again", field="key")
    _allow(row, needs)
    return row


def sign_out(*, session: Session, key_id: int) -> None:
    """End every console session opened with this key until now (a copied cookie included)."""
    row = session.get(ApiKey, key_id) if isinstance(key_id, int) else None
    if row is not None:
        row.signed_out_at = utcnow()
        session.commit()


def _allow(row: ApiKey, needs: str) -> None:
    if ROLES.index(row.role) < ROLES.index(needs):
        raise Forbidden(f"key {row.name!r} has role {row.role!r}; this needs {needs!r} or above",
                        field="Authorization")
