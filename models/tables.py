"""Model version table: every training run leaves one row, one of them active."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, utcnow


class ModelVersion(Base):
    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(20), default="training")  # training|candidate|active|retired|failed
    path: Mapped[str | None] = mapped_column(Text, nullable=True)
    encoder: Mapped[str | None] = mapped_column(String(500), nullable=True)
    report: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(nullable=True)


class ModelArtifact(Base):
    """A part of one file of a model version's artifacts, kept in the database so that any machine
    on it can serve the version (its ``path`` folder is then only this machine's cache of them).
    Written in the transaction that makes the version a candidate; files larger than a part are
    split into numbered parts."""

    __tablename__ = "model_artifacts"

    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    part: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class TrainingJob(Base):
    """A queued or finished training run. Workers claim queued jobs with a conditional UPDATE
    (after SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL), so exactly one worker runs each."""

    __tablename__ = "training_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)  # queued|running|succeeded|failed
    trigger: Mapped[str] = mapped_column(String(40), default="manual")  # manual|feedback|schedule|cli|api|encoder_change
    promote: Mapped[str] = mapped_column(String(20), default="auto")  # auto|always|never
    progress: Mapped[list] = mapped_column(default=list)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # times a worker claimed it
    model_version_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
