"""Knowledge-base tables: articles, the passages (chunks) that the vector index points at, and the
passages' vectors per encoder (what a replica with an empty data directory builds its index from)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.db import Base, utcnow


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str | None] = mapped_column(String(200), nullable=True)
    tags: Mapped[list] = mapped_column(default=list)
    url: Mapped[str | None] = mapped_column(String(2000), nullable=True)  # where agents read it (help center)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    chunks: Mapped[list["Chunk"]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="Chunk.position"
    )


class Chunk(Base):
    """A passage of an article; its integer id is the id stored in the faiss index."""

    __tablename__ = "chunks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[str] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)

    article: Mapped[Article] = relationship(back_populates="chunks")


class PassageVector(Base):
    """A passage's vector by one encoder (float32 bytes, as the index holds it), written in the
    transaction that writes the passage and deleted with it."""

    __tablename__ = "passage_vectors"

    chunk_id: Mapped[int] = mapped_column(ForeignKey("chunks.id", ondelete="CASCADE"), primary_key=True)
    encoder: Mapped[str] = mapped_column(String(500), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class IndexQuantizer(Base):
    """The trained lists (k-means centroids, float32 bytes) of the approximate passage index for
    one encoder: a replica that builds its index from the stored vectors assigns them to these
    lists instead of training its own (35 s of a fresh replica's 54 s at 100k passages)."""

    __tablename__ = "index_quantizers"

    encoder: Mapped[str] = mapped_column(String(500), primary_key=True)
    dim: Mapped[int] = mapped_column(Integer)
    nlist: Mapped[int] = mapped_column(Integer)
    trained_on: Mapped[int] = mapped_column(Integer)  # vectors the k-means saw
    centroids: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
