"""Split an article into passages small enough for the encoder (MiniLM reads ~256 word pieces)."""
from __future__ import annotations

import re


def chunk_article(title: str, body: str, *, words: int = 120) -> list[str]:
    """Passages of about ``words`` words, each prefixed with the title so it stands on its own."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body or "") if p.strip()]
    paragraphs = [p for p in paragraphs if p.lstrip("# ").strip() != title.strip()]
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for para in paragraphs:
        n = len(para.split())
        if current and size + n > words:
            chunks.append(" ".join(current))
            current, size = [], 0
        # A single paragraph longer than the budget is cut into word windows.
        tokens = para.split()
        while len(tokens) > words:
            chunks.append(" ".join(tokens[:words]))
            tokens = tokens[words:]
        current.append(" ".join(tokens))
        size += len(tokens)
    if current:
        chunks.append(" ".join(current))
    if not chunks:
        return [title.strip()]
    return [f"{title.strip()}. {c}" for c in chunks]
