"""Tickets that hold several requests: where to cut them, and whether the pieces ask different things.

A ticket is cut into units: list items, paragraphs, sentences. Each unit says how strongly it
starts something new: a list item, a new paragraph or a word such as "also" or "another thing"
(``strong``), or a plain next sentence (``weak``). Units of a few words ("Hi,", "Thanks!") never
start a part. The category model reads every unit alone; consecutive units are one part while
they point to the same category, and a unit starts a new part when it points elsewhere with a
confidence over the threshold of its boundary (lower after a strong boundary), or whatever it
points to when it opens with words that announce another matter ("PS:", "Also, unrelated:", "One
more thing -", ``announced``): a short second problem after a long first one is often read with
too little confidence, and the first part's mean over a ramble of context too. The engine then
decides each part as a ticket of its own and keeps the split only when neighbouring parts still
differ in category with confidence (:func:`keep`).

A ticket rambling about one problem stays one issue: its sentences point to the same category,
or to others without confidence; context, pressure and sign-off lines ("We pay for Business and this
is not acceptable", "Reply ASAP", "Name, Company") ask nothing and never start a part. The thresholds were chosen on tickets built from a validation
split of Banking77 (scripts/bench_multi_issue.py, docs/benchmarks.md "Several issues in one ticket").
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

STRONG_START = 0.35  # a unit's confidence to start a part after a strong boundary
WEAK_START = 0.75  # ... after a plain sentence boundary
KEEP = 0.5  # each part's own decision must reach this confidence, neighbours differing in category
MIN_WORDS = 4  # a shorter unit never starts a part
MAX_UNITS = 12  # longer tickets are read in at most this many units (the rest joins the last)
# Tickets of this many units (greetings and sign-offs included: what encoding them alone costs) have
# their units read in the context of the whole ticket first (:func:`in_context`), and encoded alone
# only when that reading cuts the ticket in two with start thresholds scaled by IN_CONTEXT_SCALE.
# Shorter tickets cost little to encode unit by unit, and their units read in context blur into each
# other ("Also, ..." after one short query). Chosen on the first half of bench_multi_issue's Banking77
# tickets; counting only the units that may ask something instead spared 23 of 233 demo tickets
# with units, not 148 (docs/benchmarks.md "Units read in context first").
IN_CONTEXT_MIN_UNITS = 4
IN_CONTEXT_SCALE = 0.6

_MARKER = re.compile(r"^\W*(also|additionally|another (thing|issue|question|problem|request)|one more thing|"
                     r"separately|second(ly)?|third(ly)?|besides|plus|p\.?s\.?|on (another|a different|an unrelated) "
                     r"(note|topic|matter)|unrelated(ly)?|and (also|another)|while i'?m at it|furthermore|"
                     r"in addition|apart from that|aside from that)\b", re.I)
# Words that announce another matter outright ("PS:", "Also, unrelated:", "One more thing -", "Second
# question:", "And while I have you:"): a unit opening with one starts a part whatever the category
# model thinks of the part before it, which in a long ticket is often a ramble of little confidence.
# Whether the split stands is still for the parts' own decisions (:func:`keep`).
_NEW_MATTER = re.compile(r"^\W*(p\.?\s?s\b\.?|post ?script|one (more|last|other) thing|another (thing|issue|question|"
                         r"problem|request|matter)|(second|third|other|separate|different|unrelated|last) "
                         r"(question|issue|problem|thing|request|matter)|second(ly)?\b|separately|unrelated(ly)?|"
                         r"(and )?while i('?m| am) at it|(and )?while i (have|'ve got|got) you|on (another|a different|"
                         r"an unrelated|a separate|a side) (note|topic|matter|subject)|also\W+(\(?(unrelated|different|"
                         r"separate|on another|another|side)\b)|(and )?(also )?(a |one )?(separate|different|unrelated) "
                         r"(issue|question|problem|thing|matter|note))", re.I)
# A chat line's speaker ("Camille: ...") is not part of what the line says.
_SPEAKER = re.compile(r"^[A-Z][\w.'-]{0,30}(?: [A-Z][\w.'-]{0,30})?:\s+(?=\S)")
_ITEM = re.compile(r"^\s*(\d{1,2}[.)]|[-*\u2022]|\(?[a-h]\))\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_INNER_ALSO = re.compile(r"[,;]?\s+(?:and\s+)?also[,]?\s+(?=(?:i|my|our|the|can|could|how|what|why|when|is|are|"
                         r"do|does|please|there)\b)", re.I)


# Greetings, thanks, sign-offs and a caller's circumstances ask nothing: they never start a part.
_FILLER = re.compile(r"^\W*(hi|hello|hey|dear|good (morning|afternoon|evening)|greetings|thanks?|thank you|many thanks|"
                     r"regards|best|kind regards|best regards|warm regards|cheers|sincerely|br|let me know|"
                     r"please (help|advise|let me know)|could you (please )?help|any help|looking forward|"
                     r"hope (this|you)|have a (nice|good|great)|agent notes?|caller|inbound call|sent from my|"
                     # ... and nor do the context and pressure people wrap a request in ("for context", "we pay for
                     # Business and this is not acceptable", "reply ASAP"): read alone, such a sentence points to some
                     # category, and a paragraph of it would be cut off as a request of its own.
                     r"for context|some background|side note|not sure if it matters|sorry for the long|"
                     r"i'?m writing (this|from)|i'?m covering for|hope (that|it) (all )?makes sense|happy (mon|tues|wednes|"
                     r"thurs|fri|satur|sun)day|i'?ve been using|we pay for|reply asap|waiting for an? (urgent|quick|fast) "
                     r"(reply|answer|response)|hope for (a )?quick|if this (isn'?t|is not) (fixed|solved|resolved)|"
                     r"this is (not acceptable|unacceptable|getting ridiculous)|not happy|come on|kindly revert|"
                     r"looks like a bug|please escalate( this)?(?=\W*$)|i'?ve already wasted)\b", re.I)


# A sign-off line on its own ("Leila Walsh, Atlas Freight Co"): a name, a comma, a company; no sentence.
_SIGNATURE = re.compile(r"^[-\s]*[A-Z][\w'.-]+(?: [A-Z][\w'.-]+){0,2}, [A-Z][\w'.-]*(?: (?:&|[A-Z][\w'.-]*)){0,5}$")


@dataclass
class Unit:
    text: str
    strong: bool  # starts after a list item mark, a paragraph break or a word like "also"
    summary: bool = False  # a subject line
    announced: bool = False  # opens with words that announce another matter ("PS:", "One more thing")

    @property
    def words(self) -> int:
        """Words that may ask something (none for a greeting, a sign-off or a subject line)."""
        if self.summary or _FILLER.match(self.text) or _SIGNATURE.match(self.text):
            return 0
        return len(self.text.split())


def units(text: str) -> list[Unit]:
    """The ticket's units in order, each with the strength of the boundary before it."""
    out: list[Unit] = []
    paragraphs = re.split(r"\n\s*\n", text.strip())
    for p_index, paragraph in enumerate(paragraphs):
        lines = [line for line in paragraph.splitlines() if line.strip()]
        if p_index == 0 and len(lines) > 1 and not _ITEM.match(lines[1]) and not lines[0].rstrip().endswith((".", "?", "!")):
            # A subject line sums up the whole ticket: it goes with the first part, deciding nothing.
            out.append(Unit(lines[0].strip(), False, summary=True))
            lines = lines[1:]
        blocks: list[tuple[str, bool]] = []
        for line in lines:  # each line a block: forms and chats do not wrap lines
            item = _ITEM.match(line)
            blocks.append((line[item.end():] if item else line, bool(item)))
        for b_index, (block, is_item) in enumerate(blocks):
            for s_index, sentence in enumerate(_split_sentences(block)):
                first = s_index == 0
                said = _SPEAKER.sub("", sentence, count=1)
                announced = bool(_NEW_MATTER.match(sentence) or _NEW_MATTER.match(said))
                strong = (first and (is_item or (b_index == 0 and p_index > 0))) or announced or bool(
                    _MARKER.match(sentence) or _MARKER.match(said))
                out.append(Unit(sentence.strip(), strong, announced=announced))
    if len(out) > MAX_UNITS:
        out = out[:MAX_UNITS - 1] + [Unit(" ".join(u.text for u in out[MAX_UNITS - 1:]), out[MAX_UNITS - 1].strong,
                                          announced=out[MAX_UNITS - 1].announced)]
    return [u for u in out if u.text]


def _split_sentences(block: str) -> list[str]:
    parts = []
    for sentence in _SENTENCE_END.split(block.strip()):
        # "... and also my card ..." inside one sentence starts a new request too.
        pieces = _INNER_ALSO.split(sentence)
        parts.extend(p for p in ([pieces[0]] + [f"also {p}" for p in pieces[1:]]) if p.strip())
    return parts


def group(found: list[Unit], proba: np.ndarray, scale: float = 1.0) -> list[list[int]]:
    """Consecutive unit indices that make one part each. ``proba``: the category model's
    probabilities of each unit read alone (one row per unit; only the rows of :func:`asking` units
    are read). ``scale``: of the confidence a unit needs to start a part (lower: more parts)."""
    parts: list[list[int]] = []
    mean = None
    for i, unit in enumerate(found):
        row = proba[i]
        if parts and unit.words >= MIN_WORDS and any(found[j].words >= MIN_WORDS for j in parts[-1]):
            here, there = int(np.argmax(row)), int(np.argmax(mean))
            start = scale * (STRONG_START if unit.strong else WEAK_START)
            if unit.announced or (here != there and row[here] >= start and mean[there] >= start):
                parts.append([i])
                mean = row.copy()
                continue
        if not parts:
            parts.append([])
        parts[-1].append(i)
        members = [j for j in parts[-1] if found[j].words >= MIN_WORDS] or parts[-1]
        mean = proba[members].mean(axis=0)
    return parts


def asking(found: list[Unit]) -> list[int]:
    """Indices of the units that may ask something (MIN_WORDS or more). :func:`group` reads only
    their rows of ``proba``: a shorter unit starts no part, and a part's mean is over its asking
    units (every part has one), so the engine neither encodes nor classifies the others."""
    return [i for i, u in enumerate(found) if u.words >= MIN_WORDS]


def may_split(found: list[Unit]) -> bool:
    """Whether a ticket's units could make two parts at all: two of them may ask something (only
    units of MIN_WORDS or more start parts)."""
    return len(asking(found)) >= 2


def read_in_context_first(found: list[Unit]) -> bool:
    """Whether a ticket's units are read in context (:func:`in_context`) before any is encoded alone."""
    return may_split(found) and len(found) >= IN_CONTEXT_MIN_UNITS


def in_context(text: str, found: list[Unit], token_states) -> np.ndarray | None:
    """Each unit's vector as the encoding of the whole ``text`` read it, at no encoding cost: the
    normalised mean of the output states (:class:`models.encoder_spec.TokenStates`) of the word
    pieces within the unit's characters. None when a unit cannot be placed in the text (a rewritten
    unit, or one past the encoder's token limit): only the units' own encodings can tell then.

    The engine reads these first (for the tickets :func:`read_in_context_first` picks) and encodes
    the units alone only for tickets that they would cut in two: on the demo, 32% of the tickets
    with units, with no marked split lost (docs/benchmarks.md "Units read in context first")."""
    rows, start = [], 0
    begins, ends = token_states.spans[:, 0], token_states.spans[:, 1]
    pieces = ends > begins  # not the model's own markers
    # Where the encoder stopped reading, if it cut the text at its token limit.
    read_until = int(ends.max(initial=0)) if token_states.cut else len(text)
    for unit in found:
        at = text.find(unit.text, start)
        if at < 0 or at + len(unit.text) > read_until:
            return None
        start = at + len(unit.text)
        inside = pieces & (begins >= at) & (ends <= start)
        if not inside.any():
            return None
        mean = token_states.states[inside].mean(axis=0)
        rows.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
    return np.vstack(rows).astype(np.float32)


def keep(decisions: list[dict]) -> bool:
    """Whether the parts' own decisions confirm the split: each confident, neighbours differing."""
    if len(decisions) < 2:
        return False
    if any(d["category"] is None or (d["category_confidence"] or 0) < KEEP for d in decisions):
        return False
    return all(a["category"] != b["category"] for a, b in zip(decisions, decisions[1:]))


def part_texts(found: list[Unit], parts: list[list[int]]) -> list[str]:
    return [" ".join(found[i].text for i in members) for members in parts]
