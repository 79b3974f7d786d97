#!/usr/bin/env python3
"""Generate the synthetic kb-triage demo help desk for "Northdeck".

Northdeck is a fictional team-workspace / project-management SaaS product
(boards, cards, docs, automations, integrations, mobile and desktop apps).
This script writes a self-contained, deterministic demo data set that the
kb-triage service can be developed and evaluated against:

* ``<out>/articles/<id>.md``  - knowledge-base articles with YAML-style front
  matter (id, title, category, tags) followed by a Markdown body.
* ``<out>/tickets.csv``       - past support tickets labelled with category,
  support tier (L1/L2) and the KB article that resolved them (empty when no
  article did; a share of those come from recurring "content gap" themes).
* ``<out>/README.md``         - a short description with counts.

All text is synthetic and was written for this project. It lives in YAML
files under ``scripts/demo_corpus/`` (read relative to this script), not in
this file:

* ``catalog.yaml``              - product, categories, plans, channel/style
  weights, confusable categories and article popularity.
* ``articles/<category>.yaml``  - the KB articles (id, title, tags, body).
* ``tickets/<category>.yaml``   - per article, the customer problems behind
  its tickets (tier, candidate subjects and bodies with ``{slot}`` fillers,
  plans, incident dates, chance the article stays linked).
* ``gaps.yaml``                 - recurring needs no article covers.
* ``vocabulary.yaml``           - slot values: names, companies, devices...
* ``tone.yaml``                 - greetings, sign-offs and other tone phrases.

This script holds only the generator logic. Every random choice goes through
a single ``random.Random(seed)`` instance and the corpus is read in file
order, so the same corpus, seed and ticket count always produce byte-identical
output. Reordering or editing entries in the corpus changes the demo.

Usage::

    python scripts/make_demo_data.py [--out kb/demo_data] [--seed 7] [--tickets 2400]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import re
import random
import string
import sys
import unicodedata
from collections import Counter, namedtuple
from pathlib import Path

import yaml

CORPUS_DIR = Path(__file__).resolve().parent / "demo_corpus"


def _load(name: str):
    """Read one corpus file (YAML; mappings keep their file order)."""
    with open(CORPUS_DIR / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


REFERENCE_END = dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc)  # data ends the day before
HISTORY_DAYS = 272  # roughly nine months of history

# ---------------------------------------------------------------------------
# Catalog: product, categories, plans and weight tables (catalog.yaml)
# ---------------------------------------------------------------------------

_CATALOG = _load("catalog.yaml")
PRODUCT = _CATALOG["product"]
CATEGORIES: list[str] = _CATALOG["categories"]
PLANS = list(_CATALOG["plans"])
PLAN_NAMES = {p: spec["name"] for p, spec in _CATALOG["plans"].items()}
PLAN_CODES = {spec["code"]: p for p, spec in _CATALOG["plans"].items()}
PLAN_WEIGHTS = {p: spec["weight"] for p, spec in _CATALOG["plans"].items()}
CHANNELS: list[str] = _CATALOG["channels"]
CHANNEL_WEIGHTS: dict[str, dict[str, float]] = _CATALOG["channel_weights"]
STYLE_WEIGHTS: dict[str, dict[str, float]] = _CATALOG["style_weights"]
CONFUSABLE: dict[str, list[str]] = _CATALOG["confusable"]  # neighbouring queues for category label noise
POPULARITY: dict[str, float] = _CATALOG["popularity"]  # long-tail popularity of articles (default 1.0)

# ---------------------------------------------------------------------------
# Knowledge-base articles (articles/<category>.yaml)
# ---------------------------------------------------------------------------

Article = namedtuple("Article", "id title category tags body")
ARTICLES: list[Article] = [
    Article(a["id"], a["title"], category, a["tags"], a["body"].strip("\n"))
    for category in CATEGORIES for a in _load(f"articles/{category}.yaml")
]

# ---------------------------------------------------------------------------
# Ticket problems (tickets/<category>.yaml) and content gaps (gaps.yaml)
# ---------------------------------------------------------------------------
# Each KB article gets several distinct customer problems with a definite
# support tier: L1 when a KB article or standard procedure resolves it, L2
# when it needs a specialist, engineering or a privileged action. ``kb`` is,
# for L2 problems only, the chance that the article still helped enough to be
# linked to the ticket. Gaps are recurring needs no article covers
# (article_id empty); they are L2, and GAP_L1_SHARE of them L1 closes anyway.

Problem = namedtuple("Problem", "tier subjects bodies plans incidents kb")
Gap = namedtuple("Gap", "key category weight problem")

L1, L2 = "L1", "L2"
KB_PARTIAL = 0.1  # default chance an L2 ticket keeps an article that only partly helped


def P(tier, subjects, bodies, plans="ftbe", incidents=(), kb=None):
    if tier not in (L1, L2):
        raise ValueError(f"unknown tier {tier!r}")
    if kb is None:
        kb = 1.0 if tier == L1 else KB_PARTIAL
    return Problem(tier, subjects, bodies, plans, tuple(incidents), kb)


def _problem(spec: dict, where: str) -> Problem:
    unknown = set(spec) - set(Problem._fields)
    if unknown:
        raise SystemExit(f"{where}: unknown problem keys {sorted(unknown)}")
    return P(**spec)


PROBLEMS: dict[str, list[Problem]] = {
    aid: [_problem(spec, f"tickets/{category}.yaml {aid}") for spec in specs]
    for category in CATEGORIES for aid, specs in _load(f"tickets/{category}.yaml").items()
}
GAPS = [Gap(g.pop("key"), g.pop("category"), g.pop("weight"), _problem(g, "gaps.yaml"))
        for g in _load("gaps.yaml")]

# ---------------------------------------------------------------------------
# Slot fillers (vocabulary.yaml)
# ---------------------------------------------------------------------------

_VOCAB = _load("vocabulary.yaml")
FIRST_NAMES, LAST_NAMES = _VOCAB["first_names"], _VOCAB["last_names"]
COMPANIES = list(_VOCAB["companies"].items())  # (name, domain)
BROWSERS, DESKTOP_OS = _VOCAB["browsers"], _VOCAB["desktop_os"]
DEVICES = list(_VOCAB["devices"].items())  # (device, mobile OS)
IDPS, BOARDS, INTEGRATIONS = _VOCAB["idps"], _VOCAB["boards"], _VOCAB["integrations"]
CITIES, AU_CITIES, COUNTRIES = _VOCAB["cities"], _VOCAB["au_cities"], _VOCAB["countries"]
INDUSTRIES, SLACK_CHANNELS, FILE_SIZES = _VOCAB["industries"], _VOCAB["slack_channels"], _VOCAB["file_sizes"]
MONTHS = _VOCAB["months"]
CARD_KEY_PREFIXES, CARD_BRANDS, GITLAB_VERSIONS = (
    _VOCAB["card_key_prefixes"], _VOCAB["card_brands"], _VOCAB["gitlab_versions"])


def _gen_company(rng, s):
    name, domain = rng.choice(COMPANIES)
    s["domain"] = domain
    return name


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z]", "", plain.lower())


def _gen_email(rng, s):
    first, last = _ascii(s["first"]), _ascii(s["last"])
    style = rng.randrange(3)
    local = f"{first}.{last}" if style == 0 else (f"{first[0]}{last}" if style == 1 else first)
    return f"{local}@{s['domain']}"


def _gen_device(rng, s):
    name, os_name = rng.choice(DEVICES)
    s["mobile_os"] = os_name
    return name


def _gen_date(rng, s):
    day = s.created - dt.timedelta(days=rng.randint(0, 12))
    if rng.random() < 0.7:
        return f"{MONTHS[day.month - 1]} {day.day}"
    return f"{day.day} {MONTHS[day.month - 1][:3]}"


def _gen_amount(rng, s):
    symbol = rng.choice(["$", "$", "$", "€", "£"])
    return f"{symbol}{rng.randint(3, 240) * 10:,}.00"


SLOT_GENERATORS = {
    "first": lambda rng, s: rng.choice(FIRST_NAMES),
    "last": lambda rng, s: rng.choice(LAST_NAMES),
    "company": _gen_company,
    "domain": lambda rng, s: (s["company"], s.get("domain"))[1],
    "email": _gen_email,
    "teammate": lambda rng, s: rng.choice(FIRST_NAMES),
    "browser": lambda rng, s: rng.choice(BROWSERS),
    "os": lambda rng, s: rng.choice(DESKTOP_OS),
    "device": _gen_device,
    "mobile_os": lambda rng, s: (s["device"], s.get("mobile_os"))[1],
    "idp": lambda rng, s: rng.choice(IDPS),
    "board": lambda rng, s: rng.choice(BOARDS),
    "city": lambda rng, s: rng.choice(CITIES),
    "au_city": lambda rng, s: rng.choice(AU_CITIES),
    "country": lambda rng, s: rng.choice(COUNTRIES),
    "industry": lambda rng, s: rng.choice(INDUSTRIES),
    "integration": lambda rng, s: rng.choice(INTEGRATIONS),
    "channel_name": lambda rng, s: rng.choice(SLACK_CHANNELS),
    "n": lambda rng, s: str(rng.randint(2, 9)),
    "n_big": lambda rng, s: f"{rng.choice([1200, 1800, 2500, 3400, 4200, 6000, 8500, 12000]):,}",
    "seats": lambda rng, s: str(rng.randint(11, 160)),
    "team_size": lambda rng, s: str(rng.choice([6, 12, 18, 25, 40, 60, 85, 150, 300])),
    "amount": _gen_amount,
    "invoice": lambda rng, s: f"INV-2026-{rng.randint(1000, 19999):06d}",
    "date": _gen_date,
    "hours": lambda rng, s: str(rng.choice([2, 3, 4, 6, 8, 12])),
    "mins": lambda rng, s: str(rng.choice([5, 10, 20, 45])),
    "app_version": lambda rng, s: f"6.{rng.randint(1, 9)}.{rng.randint(0, 4)}",
    "file_size": lambda rng, s: rng.choice(FILE_SIZES),
    "card_key": lambda rng, s: f"{rng.choice(CARD_KEY_PREFIXES)}-{rng.randint(12, 4999)}",
    "req_id": lambda rng, s: "req_" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
                                              for _ in range(7)),
    "card_brand": lambda rng, s: rng.choice(CARD_BRANDS),
    "gitlab_ver": lambda rng, s: rng.choice(GITLAB_VERSIONS),
}


class Slots(dict):
    """Lazily filled template slots: each value is drawn once per ticket."""

    def __init__(self, rng: random.Random, plan: str, created: dt.datetime):
        super().__init__(plan_name=PLAN_NAMES[plan])
        self.rng = rng
        self.created = created

    def __missing__(self, key):
        gen = SLOT_GENERATORS.get(key)
        if gen is None:
            raise KeyError(f"unknown template slot {{{key}}}")
        value = gen(self.rng, self)  # generators may also set related keys (company -> domain)
        self[key] = value
        return value

    def fill(self, template: str) -> str:
        return template.format_map(self)


# ---------------------------------------------------------------------------
# Tone, channel and noise (tone.yaml)
# ---------------------------------------------------------------------------

_TONE = _load("tone.yaml")
GREETINGS, CLOSINGS, POLITE_ASKS = _TONE["greetings"], _TONE["closings"], _TONE["polite_asks"]
ANGRY_OPENERS, ANGRY_CLOSINGS = _TONE["angry_openers"], _TONE["angry_closings"]
ANGRY_ADDONS_PAID, ANGRY_ADDONS_FREE = _TONE["angry_addons_paid"], _TONE["angry_addons_free"]
RAMBLE_CONTEXT, RAMBLE_AFTERTHOUGHTS = _TONE["ramble_context"], _TONE["ramble_afterthoughts"]
NONNATIVE_OPENERS, NONNATIVE_CLOSERS = _TONE["nonnative_openers"], _TONE["nonnative_closers"]
NONNATIVE_SUBS = list(_TONE["nonnative_subs"].items())  # (regex, replacement), applied in order
NONNATIVE_SUBJECT_PREFIXES = _TONE["nonnative_subject_prefixes"]
MIX_PREFIXES, MIX_SUBJECT_PREFIXES = _TONE["mix_prefixes"], _TONE["mix_subject_prefixes"]
TERSE_SIGNOFFS, ONELINER_SUBJECTS, ONE_LINER_TAILS = (
    _TONE["terse_signoffs"], _TONE["oneliner_subjects"], _TONE["one_liner_tails"])
CHAT_OPENERS, CHAT_TAILS, CHAT_SUBJECTS = _TONE["chat_openers"], _TONE["chat_tails"], _TONE["chat_subjects"]
PHONE_NOTES = _TONE["phone_notes"]

GAP_SHARE = 0.135          # tickets about needs no article covers
TYPO_SHARE = 0.15          # tickets with typos
MIX_SHARE = 0.10           # tickets that mention a second, unrelated problem
LABEL_NOISE = 0.045        # category label flipped to a neighbouring category
ALT_ARTICLE_SHARE = 0.035  # resolved with a different article of the same category
TIER_NOISE = 0.06          # share of tier labels flipped (agents don't always agree on L1 vs L2)
GAP_L1_SHARE = 0.10        # uncovered-need tickets that L1 closed anyway (workaround given, request logged)

_WORD_RE = re.compile(r"(?<![\w./@'-])[a-z]{4,}(?![\w/@-]|\.\w)")  # lowercase words only
_KEY_NEIGHBOURS = {"a": "sq", "e": "wr", "i": "uo", "o": "ip", "n": "bm", "t": "ry", "s": "ad",
                   "r": "et", "l": "k", "c": "xv", "d": "sf", "h": "gj", "u": "yi", "m": "n", "g": "fh"}


def add_typos(text: str, rng: random.Random, rate: float) -> str:
    """Apply random character swaps/drops/doublings/slips to ordinary words.

    Technical tokens (error codes, URLs, snake_case, emails) are left alone.
    """

    def mangle(m):
        word = m.group(0)
        if rng.random() >= rate:
            return word
        i = rng.randrange(1, len(word) - 1)
        op = rng.randrange(4)
        if op == 0:
            return word[:i] + word[i + 1] + word[i] + word[i + 2:]
        if op == 1:
            return word[:i] + word[i + 1:]
        if op == 2:
            return word[:i] + word[i] + word[i:]
        alt = _KEY_NEIGHBOURS.get(word[i].lower())
        return word[:i] + (rng.choice(alt) if alt else word[i]) + word[i + 1:]

    out = _WORD_RE.sub(mangle, text)
    if rng.random() < 0.35:
        out = re.sub(r"\bI\b", "i", out)
    if rng.random() < 0.35:
        out = re.sub(r"\b(can|don|doesn|isn|won|didn)'t\b", r"\1t", out)
    return out


def nonnative(text: str, rng: random.Random) -> str:
    """Rewrite text with common non-native English patterns."""
    for pattern, repl in NONNATIVE_SUBS:
        if rng.random() < 0.75:
            text = re.sub(pattern, repl, text)
    return re.sub(r"\b(the|a|an) ", lambda m: "" if rng.random() < 0.35 else m.group(0), text)


def lcfirst(text: str) -> str:
    if len(text) > 1 and text[0].isupper() and text[1].islower() and not text.startswith("I "):
        return text[0].lower() + text[1:]
    return text


def split_sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def one_liner(subject: str, rng: random.Random) -> str:
    short = re.sub(r"[\"'?!.]", "", subject.lower()).strip()
    return short + rng.choice(ONE_LINER_TAILS)


# Priority follows customer impact, as agents are asked to judge it: what the problem touches (its
# category), how many it affects and whether work is blocked (the ticket's words), the customer's
# plan, and whether it needed a specialist; plus some disagreement between agents (noise).
PRIORITY_BASE = {"security_privacy": 2.0, "login_sso": 1.5, "performance": 1.5, "bugs": 1.2, "api": 1.2,
                 "billing": 1.0, "data_export": 1.0, "integrations": 0.8, "account_admin": 0.8,
                 "mobile_app": 0.7, "notifications": 0.3}
PRIORITY_PLAN = {"enterprise": 1.0, "business": 0.5, "team": 0.0, "free": -0.5}
PRIORITY_WORDS = (  # (words, weight): the first match of each group counts once
    (("everyone", "all our", "all users", "whole team", "entire", "nobody", "no one", "outage", "down for",
      "data is gone", "lost", "deleted", "breach", "hacked", "suspicious", "charged twice"), 1.0),
    (("can't", "cannot", "unable", "blocked", "stuck", "not working", "broken", "error", "fails"), 0.4),
    (("urgent", "asap", "immediately", "deadline", "right now", "not acceptable"), 0.5),
    (("how do i", "how can i", "is there a way", "where do", "where can", "can i "), -0.5),
)
PRIORITY_CUTS = ((3.4, "P1"), (2.4, "P2"), (1.3, "P3"))  # score at or above -> label; below all: P4
PRIORITY_NOISE = 0.35  # standard deviation of agents' disagreement, in score points


def priority_of(ticket: dict, rng: random.Random) -> str:
    text = f"{ticket['subject']} {ticket['body']}".lower()
    score = PRIORITY_BASE.get(ticket["category"], 1.0) + PRIORITY_PLAN.get(ticket["plan"], 0.0)
    score += 0.5 if ticket["tier"] == L2 else 0.0
    score += sum(weight for words, weight in PRIORITY_WORDS if any(w in text for w in words))
    score += rng.gauss(0.0, PRIORITY_NOISE)
    return next((label for cut, label in PRIORITY_CUTS if score >= cut), "P4")


def _weighted(rng: random.Random, table: dict[str, float]) -> str:
    keys = list(table)
    return rng.choices(keys, weights=[table[k] for k in keys])[0]


# ---------------------------------------------------------------------------
# Ticket generator
# ---------------------------------------------------------------------------

class TicketGenerator:
    def __init__(self, seed: int):
        self.seed = seed
        self.rng = random.Random(seed)
        self.articles = {a.id: a for a in ARTICLES}
        self.by_category = {c: sorted(a.id for a in ARTICLES if a.category == c) for c in CATEGORIES}
        self.kb_items = []  # (article_id, problem)
        weights = []
        for aid in sorted(PROBLEMS):
            problems = PROBLEMS[aid]
            for prob in problems:
                self.kb_items.append((aid, prob))
                weights.append(POPULARITY.get(aid, 1.0) / len(problems) * (1.0 + 0.15 * (len(problems) - 2)))
        self.kb_cum = self._cumulative(weights)
        start = (REFERENCE_END - dt.timedelta(days=HISTORY_DAYS)).date()
        self.days = [start + dt.timedelta(days=i) for i in range(HISTORY_DAYS)]
        day_w = []
        for i, day in enumerate(self.days):
            weekday = day.weekday()
            factor = 1.0 if weekday < 5 else (0.32 if weekday == 5 else 0.26)
            if weekday == 0:
                factor = 1.15  # Monday backlog
            day_w.append(factor * (0.75 + 0.5 * i / HISTORY_DAYS))  # product is growing
        self.day_cum = self._cumulative(day_w)
        hour_w = [1, 1, 1, 1.5, 2, 2.5, 3, 4, 5, 6, 6.5, 6.5, 6, 6.5, 7, 7, 6.5, 6, 5, 4, 3, 2.5, 2, 1.5]
        self.hour_cum = self._cumulative(hour_w)

    @staticmethod
    def _cumulative(weights):
        total, out = 0.0, []
        for w in weights:
            total += w
            out.append(total)
        return out

    # -- sampling helpers --------------------------------------------------
    def sample_created(self, incidents) -> dt.datetime:
        rng = self.rng
        if incidents and rng.random() < 0.6:
            day = dt.date.fromisoformat(rng.choice(incidents))
            hour = rng.randint(12, 17)
        else:
            day = rng.choices(self.days, cum_weights=self.day_cum)[0]
            hour = rng.choices(range(24), cum_weights=self.hour_cum)[0]
        return dt.datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60),
                           tzinfo=dt.timezone.utc)

    def sample_plan(self, plans: str) -> str:
        allowed = [PLAN_CODES[c] for c in plans]
        return self.rng.choices(allowed, weights=[PLAN_WEIGHTS[p] for p in allowed])[0]

    def secondary_problem(self, aid: str) -> tuple[Problem, str]:
        """Pick an unrelated problem to mix into a ticket (mostly another category), with its category."""
        rng = self.rng
        category = self.articles[aid].category
        for _ in range(10):
            other_aid, prob = rng.choices(self.kb_items, cum_weights=self.kb_cum)[0]
            if other_aid != aid and (self.articles[other_aid].category != category or rng.random() < 0.3):
                return prob, self.articles[other_aid].category
        return prob, self.articles[other_aid].category

    # -- text composition --------------------------------------------------
    def compose(self, problem: Problem, aid: str | None, slots: Slots, channel: str):
        rng = self.rng
        subject = slots.fill(rng.choice(problem.subjects))
        core = slots.fill(rng.choice(problem.bodies))
        weights = dict(STYLE_WEIGHTS[channel])
        if problem.tier == L2 and "angry" in weights:
            weights["angry"] *= 1.6
        style = _weighted(rng, weights)
        second = None
        if style != "oneliner" and rng.random() < MIX_SHARE:
            second = self.secondary_problem(aid or "reset-password")
            core += "\n\n" + rng.choice(MIX_PREFIXES) + lcfirst(slots.fill(rng.choice(second[0].bodies)))
            if rng.random() < 0.3:
                subject = rng.choice(MIX_SUBJECT_PREFIXES) + ": " + subject
        if style == "nonnative":
            core = nonnative(core, rng)
            if rng.random() < 0.4:
                subject = rng.choice(NONNATIVE_SUBJECT_PREFIXES) + lcfirst(subject)
        if style == "angry":
            r = rng.random()
            if r < 0.25:
                subject = subject.upper()
            elif r < 0.5:
                subject = "URGENT: " + subject
            elif r < 0.7:
                subject += "!!!"

        if channel == "phone":
            body = self._phone_body(core, style, slots)
            subject = rng.choice(["Phone: " + subject, "Call - " + lcfirst(subject), subject])
        elif channel == "chat":
            body, subject = self._chat_body(core, subject, style, slots)
        else:
            body, subject = self._written_body(core, subject, style, slots, channel)
        return subject, body, style, second

    def _written_body(self, core, subject, style, slots, channel):
        rng, fill = self.rng, slots.fill
        if style == "oneliner":
            body = one_liner(subject, rng)
            subject = rng.choice([subject, subject, *ONELINER_SUBJECTS, body])
        elif style == "polite":
            ask = rng.choice(POLITE_ASKS)
            body = f"{rng.choice(GREETINGS)}\n\n{core}{(' ' + ask) if ask else ''}\n\n{fill(rng.choice(CLOSINGS))}"
        elif style == "terse":
            body = core + (("\n" + fill(rng.choice(TERSE_SIGNOFFS))) if rng.random() < 0.4 else "")
        elif style == "angry":
            addons = ANGRY_ADDONS_FREE if slots["plan_name"] == "Free" else ANGRY_ADDONS_PAID
            body = (f"{rng.choice(ANGRY_OPENERS)} {core}\n\n{fill(rng.choice(addons))}\n\n"
                    f"{fill(rng.choice(ANGRY_CLOSINGS))}")
        elif style == "rambling":
            ctx = rng.sample(RAMBLE_CONTEXT, 3)
            body = (f"{rng.choice(GREETINGS)}\n\n{fill(ctx[0])} {fill(ctx[1])}\n\n{core}\n\n{fill(ctx[2])} "
                    f"{rng.choice(RAMBLE_AFTERTHOUGHTS)}\n\n{fill(rng.choice(CLOSINGS))}")
        else:  # nonnative
            body = (f"{rng.choice(NONNATIVE_OPENERS)}\n\n{core} {rng.choice(NONNATIVE_CLOSERS)}\n\n"
                    f"Regards,\n{fill('{first} {last}')}")
        if channel == "web" and style != "oneliner" and rng.random() < 0.35:
            header = fill("Workspace: {company}\nBrowser: {browser}\n")
            body = header + "Description:\n" + body
        return body, subject

    def _chat_body(self, core, subject, style, slots):
        rng = self.rng
        lines = []
        if style != "terse" and rng.random() < 0.6:
            lines.append(rng.choice(CHAT_OPENERS))
        if style == "oneliner":
            lines.append(one_liner(subject, rng))
        else:
            if style == "angry":
                lines.append(rng.choice(ANGRY_OPENERS))
            elif style == "rambling":
                lines.append(slots.fill(rng.choice(RAMBLE_CONTEXT)))
            lines.extend(s for part in core.split("\n\n") for s in split_sentences(part))
            if style == "angry":
                lines.append("this is really frustrating")
        if rng.random() < 0.3:
            lines.append(rng.choice(CHAT_TAILS))
        if style == "terse" and rng.random() < 0.4:
            lines = [ln.lower() for ln in lines]
        if rng.random() < 0.5:
            who = slots["first"]
            lines = [f"{who}: {ln}" for ln in lines]
        r = rng.random()
        if r < 0.3:
            subject = slots.fill(rng.choice(CHAT_SUBJECTS))
        return "\n".join(lines), subject

    def _phone_body(self, core, style, slots):
        rng, fill = self.rng, slots.fill
        head = fill("Inbound call from {first} {last} ({company}, {plan_name} plan).")
        note = rng.choice(PHONE_NOTES)
        if style == "angry":
            note = "Caller was frustrated and asked for escalation. " + note
        elif style == "terse":
            return f"{head}\nCaller reports: {core.split(chr(10))[0]}"
        return f"{head}\nCaller reports: \"{core}\"\n\nAgent notes: {note}"

    # -- one ticket ----------------------------------------------------------
    def make_ticket(self, kind: "str | Gap") -> dict:
        """One ticket: ``kind`` is "kb" (a problem some article covers) or the Gap it is about."""
        rng = self.rng
        if isinstance(kind, Gap):
            gap = kind
            aid, problem, category, gap_key = None, gap.problem, gap.category, gap.key
        else:
            aid, problem = rng.choices(self.kb_items, cum_weights=self.kb_cum)[0]
            category, gap_key = self.articles[aid].category, ""
        plan = self.sample_plan(problem.plans)
        created = self.sample_created(problem.incidents)
        channel = _weighted(rng, CHANNEL_WEIGHTS[plan])
        slots = Slots(rng, plan, created)
        subject, body, style, second = self.compose(problem, aid, slots, channel)

        typos = rng.random() < TYPO_SHARE
        if typos:
            body = add_typos(body, rng, rng.uniform(0.04, 0.09))
            if rng.random() < 0.5:
                subject = add_typos(subject, rng, 0.12)

        # Tier follows from what the problem needs (see PROBLEMS); a ticket that
        # also raises a second, L2 problem needs L2 as well.
        tier = problem.tier
        article_id = aid or ""
        escalated = False
        if aid:
            # L2 work is mostly done by specialists without an article; the article
            # stays linked only where it documented part of the fix (problem.kb).
            if problem.tier == L2 and rng.random() >= problem.kb:
                article_id, escalated = "", True
            elif rng.random() < ALT_ARTICLE_SHARE:
                others = [a for a in self.by_category[category] if a != aid]
                article_id = rng.choice(others)
        elif rng.random() < GAP_L1_SHARE:
            tier = L1  # no article, but L1 answered it (workaround given, feature request logged)
        if second is not None and second[0].tier == L2:
            tier = L2
        if rng.random() < LABEL_NOISE:
            category = rng.choice(CONFUSABLE[category])
        # A ticket that raises a second problem holds two issues: its parts, in the order written.
        parts = f"{category};{second[1]}" if second is not None else ""

        return {
            "subject": subject, "body": body, "channel": channel, "plan": plan,
            "created": created, "category": category, "tier": tier, "article_id": article_id, "parts": parts,
            # bookkeeping only (not written to the CSV)
            "_gap": gap_key, "_escalated": escalated, "_typos": typos, "_mixed": second is not None,
            "_style": style, "_tier_noise": False,
        }

    def generate(self, n_tickets: int) -> list[dict]:
        n_gap = round(n_tickets * GAP_SHARE)
        # Uncovered themes get counts proportional to their weights (largest remainder), so the
        # content-gap ground truth doesn't depend on the luck of the draw.
        total = sum(g.weight for g in GAPS)
        quotas = [n_gap * g.weight / total for g in GAPS]
        counts = [int(q) for q in quotas]
        by_remainder = sorted(range(len(GAPS)), key=lambda i: (counts[i] - quotas[i], i))
        for i in by_remainder[:n_gap - sum(counts)]:
            counts[i] += 1
        kinds = [g for g, c in zip(GAPS, counts) for _ in range(c)] + ["kb"] * (n_tickets - n_gap)
        self.rng.shuffle(kinds)
        tickets = [self.make_ticket(kind) for kind in kinds]
        # Label noise on the tier: agents don't always agree on L1 vs L2. The flipped tickets are
        # drawn at random within each category, TIER_NOISE of each.
        for c in CATEGORIES:
            members = [i for i, t in enumerate(tickets) if t["category"] == c]
            for i in sorted(self.rng.sample(members, round(len(members) * TIER_NOISE))):
                tickets[i]["tier"] = L1 if tickets[i]["tier"] == L2 else L2
                tickets[i]["_tier_noise"] = True
        tickets.sort(key=lambda t: t["created"])  # stable: ties keep generation order
        # Priority draws from its own generator, so adding it left every other column as it was.
        priority_rng = random.Random(self.seed * 7919 + 1)
        for i, t in enumerate(tickets):
            t["ticket_id"] = f"T-{10001 + i}"
            t["created_at"] = t["created"].strftime("%Y-%m-%dT%H:%M:%SZ")
            t["priority"] = priority_of(t, priority_rng)
        return tickets


# ---------------------------------------------------------------------------
# Validation, writers and summary
# ---------------------------------------------------------------------------

CSV_COLUMNS = ["ticket_id", "subject", "body", "channel", "plan", "created_at", "category", "tier", "article_id",
               "priority", "parts"]


def _non_text(value, where: str) -> list[str]:
    """Scalars that YAML did not load as text (unquoted yes/no/on, numbers, dates...)."""
    if isinstance(value, dict):
        return [e for k, v in value.items() for e in _non_text(k, where) + _non_text(v, f"{where}.{k}")]
    if isinstance(value, (list, tuple)):
        return [e for i, v in enumerate(value) for e in _non_text(v, f"{where}[{i}]")]
    return [] if isinstance(value, str) else [f"{where}: {value!r} is not text (quote it in the YAML)"]


def _check_corpus_types(templates) -> list[str]:
    """Type checks for the YAML corpus, so that a misread scalar fails here instead of changing the demo."""
    errors = _non_text([CATEGORIES, CHANNELS, PLAN_NAMES, PLAN_CODES, CONFUSABLE], "catalog.yaml")
    errors += _non_text(_VOCAB, "vocabulary.yaml") + _non_text(_TONE, "tone.yaml")
    for a in ARTICLES:
        errors += _non_text([a.id, a.title, a.tags, a.body], f"articles/{a.category}.yaml {a.id}")
    for g in GAPS:
        errors += _non_text([g.key, g.category], f"gaps.yaml {g.key}")
    for name, p in templates:
        errors += _non_text([p.tier, p.subjects, p.bodies, p.plans, p.incidents], name)
    numbers = [(f"{name}: kb", p.kb) for name, p in templates] + [(f"gap {g.key}: weight", g.weight) for g in GAPS]
    numbers += [(f"popularity.{k}", v) for k, v in POPULARITY.items()]
    numbers += [(f"plans.{k}.weight", v) for k, v in PLAN_WEIGHTS.items()]
    numbers += [(f"{k}.{c}", w) for table in (CHANNEL_WEIGHTS, STYLE_WEIGHTS) for k, row in table.items()
                for c, w in row.items()]
    errors += [f"{where}: {v!r} is not a number" for where, v in numbers
               if isinstance(v, bool) or not isinstance(v, (int, float))]
    return errors


def validate_content() -> None:
    """Fail loudly if the corpus (scripts/demo_corpus/) is inconsistent."""
    templates = [(f"{aid}[{i}]", p) for aid in sorted(PROBLEMS) for i, p in enumerate(PROBLEMS[aid])]
    templates += [(f"gap {g.key}", g.problem) for g in GAPS]
    errors = _check_corpus_types(templates)
    if errors:  # the checks below assume the right types
        raise SystemExit("content validation failed:\n  " + "\n  ".join(errors))
    for sub in ("articles", "tickets"):
        errors += [f"{sub}/{f.name}: not a category in catalog.yaml"
                   for f in sorted((CORPUS_DIR / sub).glob("*.yaml")) if f.stem not in CATEGORIES]
    if set(CHANNEL_WEIGHTS) != set(PLANS) or set(STYLE_WEIGHTS) != set(CHANNELS):
        errors.append("catalog.yaml: channel_weights must list the plans, style_weights the channels")
    if not set(CONFUSABLE) | {c for v in CONFUSABLE.values() for c in v} <= set(CATEGORIES):
        errors.append("catalog.yaml: confusable names an unknown category")
    ids = [a.id for a in ARTICLES]
    errors += [f"popularity for unknown article {aid}" for aid in POPULARITY if aid not in ids]
    if len(ids) != len(set(ids)):
        errors.append("duplicate article ids")
    for a in ARTICLES:
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", a.id):
            errors.append(f"{a.id}: id is not a lowercase slug")
        if a.category not in CATEGORIES:
            errors.append(f"{a.id}: unknown category {a.category}")
        if ":" in a.title or a.title[0] in "\"'[{#&*!|>%@`":
            errors.append(f"{a.id}: title would need YAML quoting")
        words = len(a.body.split())
        if not 150 <= words <= 500:
            errors.append(f"{a.id}: body has {words} words (want 150-500)")
        if "## If this doesn't help" not in a.body:
            errors.append(f"{a.id}: missing 'If this doesn't help' section")
        if a.id not in PROBLEMS:
            errors.append(f"{a.id}: no ticket problems defined")
    for c in CATEGORIES:
        if sum(a.category == c for a in ARTICLES) < 5:
            errors.append(f"category {c} has fewer than 5 articles")
    for aid in PROBLEMS:
        if aid not in set(ids):
            errors.append(f"problems defined for unknown article {aid}")
    for g in GAPS:
        if g.category not in CATEGORIES:
            errors.append(f"gap {g.key}: unknown category")
    for name, p in templates:
        if not set(p.plans) <= set(PLAN_CODES):
            errors.append(f"{name}: plans must use the codes {''.join(PLAN_CODES)}, not {p.plans!r}")
        for day in p.incidents:
            try:
                dt.date.fromisoformat(day)
            except ValueError:
                errors.append(f"{name}: incident {day!r} is not an ISO date")
        if p.tier not in (L1, L2):
            errors.append(f"{name}: tier must be L1 or L2, not {p.tier!r}")
        if not 0.0 <= p.kb <= 1.0:
            errors.append(f"{name}: kb must be between 0 and 1")
        for text in list(p.subjects) + list(p.bodies):
            for _, field, _, _ in string.Formatter().parse(text):
                if field is not None and field not in SLOT_GENERATORS and field != "plan_name":
                    errors.append(f"{name}: unknown slot {{{field}}}")
    for c in CATEGORIES:
        tiers = {p.tier for a in ARTICLES if a.category == c for p in PROBLEMS.get(a.id, [])}
        if tiers != {L1, L2}:
            errors.append(f"category {c}: needs both L1 and L2 problems")
    if errors:
        raise SystemExit("content validation failed:\n  " + "\n  ".join(errors))


def write_articles(out_dir: Path) -> None:
    art_dir = out_dir / "articles"
    art_dir.mkdir(parents=True, exist_ok=True)
    for stale in sorted(art_dir.glob("*.md")):  # keep the folder in sync with ARTICLES
        stale.unlink()
    for a in ARTICLES:
        text = (f"---\nid: {a.id}\ntitle: {a.title}\ncategory: {a.category}\n"
                f"tags: [{', '.join(a.tags)}]\n---\n# {a.title}\n\n{a.body}\n")
        (art_dir / f"{a.id}.md").write_text(text, encoding="utf-8", newline="\n")


def write_tickets(out_dir: Path, tickets: list[dict]) -> None:
    with open(out_dir / "tickets.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for t in tickets:
            writer.writerow([t[c] for c in CSV_COLUMNS])


def summarize(tickets: list[dict]) -> dict:
    n = len(tickets)
    by_cat = Counter(t["category"] for t in tickets)
    l2_by_cat = Counter(t["category"] for t in tickets if t["tier"] == "L2")
    tiers = Counter(t["tier"] for t in tickets)
    no_article = sum(1 for t in tickets if not t["article_id"])
    gaps = Counter(t["_gap"] for t in tickets if t["_gap"])
    resolved = [t for t in tickets if t["article_id"]]
    return {
        "n": n, "by_cat": by_cat, "l2_by_cat": l2_by_cat, "tiers": tiers, "no_article": no_article,
        "gap_total": sum(gaps.values()), "gaps": gaps,
        "gap_l2": sum(1 for t in tickets if t["_gap"] and t["tier"] == "L2"),
        "resolved": len(resolved), "resolved_l1": sum(1 for t in resolved if t["tier"] == "L1"),
        "tier_noise": sum(1 for t in tickets if t["_tier_noise"]),
        "escalated": sum(1 for t in tickets if t["_escalated"]),
        "typos": sum(1 for t in tickets if t["_typos"]),
        "mixed": sum(1 for t in tickets if t["_mixed"]),
        "channels": Counter(t["channel"] for t in tickets),
        "plans": Counter(t["plan"] for t in tickets),
        "priorities": Counter(t["priority"] for t in tickets),
        "p1_by_plan": Counter(t["plan"] for t in tickets if t["priority"] == "P1"),
        "first": tickets[0]["created_at"] if tickets else "", "last": tickets[-1]["created_at"] if tickets else "",
    }


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "0.0%"


def write_readme(out_dir: Path, stats: dict, seed: int, n_tickets: int) -> None:
    n = stats["n"]
    arts = Counter(a.category for a in ARTICLES)
    cmd = "python scripts/make_demo_data.py --seed " + str(seed)
    if n_tickets != 2400:
        cmd += f" --tickets {n_tickets}"
    lines = [
        "# kb-triage demo data",
        "",
        f"A synthetic help desk for **{PRODUCT}**, a fictional team-workspace / project-management SaaS product "
        "(boards, cards, docs, automations, integrations, mobile and desktop apps). Every article, ticket, "
        "person and company in this folder is made up.",
        "",
        f"Generated by `{cmd}`. The generator is deterministic: the same arguments reproduce these files "
        "byte for byte. Do not edit them by hand; change the script and re-run it.",
        "",
        "## Files",
        "",
        f"- `articles/<id>.md`: {len(ARTICLES)} knowledge-base articles, Markdown with front matter "
        "(`id`, `title`, `category`, `tags`).",
        f"- `tickets.csv`: {n:,} past tickets from {stats['first'][:10]} to {stats['last'][:10]}, columns "
        "`" + ",".join(CSV_COLUMNS) + "`. `article_id` is the article that resolved the ticket, "
        "or empty when none did. `priority` (P1 urgent ... P4 low) is the agent's judgement of customer "
        "impact; `parts` names, for a ticket that raises a second problem, the categories of its two "
        "issues in the order written (`main;second`), and is empty otherwise.",
        "",
        "## Counts per category",
        "",
        "| category | articles | tickets | L2 share |",
        "|---|---:|---:|---:|",
    ]
    for c in CATEGORIES:
        lines.append(f"| {c} | {arts[c]} | {stats['by_cat'][c]} | {_pct(stats['l2_by_cat'][c], stats['by_cat'][c])} |")
    lines.append(f"| **total** | {len(ARTICLES)} | {n} | {_pct(stats['tiers']['L2'], n)} |")
    lines += [
        "",
        "## Tiers",
        "",
        f"- L1: {stats['tiers']['L1']} ({_pct(stats['tiers']['L1'], n)}), "
        f"L2: {stats['tiers']['L2']} ({_pct(stats['tiers']['L2'], n)}).",
        "- Tier follows from what the ticket needs. **L1** when a KB article or standard procedure resolves it: "
        "how-to questions, settings, documented error codes, password resets, plan and invoice questions. "
        "**L2** when it needs a specialist, engineering or a privileged action: confirmed bugs, outages, data "
        "loss, security incidents, refund disputes, API 5xx errors, SSO problems that need debugging with the "
        "customer's identity-provider admin, contract and legal requests, and needs no article covers.",
        "- Every problem template has a definite tier, and L2 texts show why (error codes, \"since the update\", "
        "\"all users affected\", \"the data is gone\", \"charged twice\", \"security\"), while L1 texts read as "
        "how-to or can't-find-it questions. Bugs, performance and API lean L2; sign-in, notifications and "
        "mobile lean L1.",
        "- A ticket that mentions a second problem is L2 when either problem is. "
        f"{_pct(stats['gap_l2'], stats['gap_total'])} of the tickets about uncovered needs are L2 (L1 closed the "
        "rest with a workaround or a logged feature request).",
        f"- Of the {stats['resolved']:,} tickets resolved by an article, {_pct(stats['resolved_l1'], stats['resolved'])} "
        "are L1. L2 tickets mostly have no `article_id`, or one that only partly helped.",
        f"- Label noise: {stats['tier_noise']} tier labels ({_pct(stats['tier_noise'], n)}) are deliberately flipped, "
        "because agents don't always agree on the tier.",
        "",
        "## Priority",
        "",
        "- " + ", ".join(f"{p}: {stats['priorities'][p]} ({_pct(stats['priorities'][p], n)})"
                         for p in ("P1", "P2", "P3", "P4")) + ".",
        "- Priority follows customer impact: what the problem touches (security and sign-in above "
        "notifications), how many it affects and whether work is blocked (\"all users\", \"the data is gone\", "
        "\"can't\"), urgency words, the customer's plan (enterprise up, free down) and whether it needed L2; "
        "agents disagree a little, so some labels sit one level off. "
        + ", ".join(f"{plan}: {_pct(stats['p1_by_plan'][plan], stats['plans'][plan])} P1"
                    for plan in PLANS) + ".",
        "",
        "## Tickets without an article",
        "",
        f"- {stats['no_article']} tickets ({_pct(stats['no_article'], n)}) have an empty `article_id`.",
        f"- {stats['gap_total']} of them ({_pct(stats['gap_total'], n)} of all tickets) are about needs no "
        f"article covers, in {len(GAPS)} recurring themes (ground truth for content-gap reports):",
    ]
    for g in GAPS:
        lines.append(f"  - `{g.key}` ({g.category}): {stats['gaps'][g.key]} tickets")
    lines += [
        f"- The other {stats['escalated']} are L2 escalations (bugs, outages, data loss, refunds, security and "
        "similar) that specialists resolved without an article.",
        "",
        "## Realism and noise",
        "",
        f"- About {_pct(stats['typos'], n)} of tickets contain typos and {_pct(stats['mixed'], n)} mention a "
        "second, unrelated problem (labelled with the main one; both named in `parts`).",
        "- Tones range from polite to angry, terse, rambling, one-liners and non-native phrasing; chat and "
        "phone tickets are transcripts and agent notes.",
        f"- Roughly {LABEL_NOISE:.1%} of category labels are deliberately noisy, and about "
        f"{ALT_ARTICLE_SHARE:.1%} of tickets were resolved with a less obvious article from the same category.",
        "",
    ]
    (out_dir / "README.md").write_text("\n".join(lines), encoding="utf-8", newline="\n")


def print_summary(stats: dict) -> None:
    n = stats["n"]
    arts = Counter(a.category for a in ARTICLES)
    print(f"articles: {len(ARTICLES)}   tickets: {n}   ({stats['first']} .. {stats['last']})")
    print(f"{'category':<18}{'articles':>9}{'tickets':>9}{'L2':>8}")
    for c in CATEGORIES:
        print(f"{c:<18}{arts[c]:>9}{stats['by_cat'][c]:>9}{_pct(stats['l2_by_cat'][c], stats['by_cat'][c]):>8}")
    print(f"tiers: L1 {stats['tiers']['L1']} ({_pct(stats['tiers']['L1'], n)}), "
          f"L2 {stats['tiers']['L2']} ({_pct(stats['tiers']['L2'], n)}); "
          f"resolved by an article: {stats['resolved']} ({_pct(stats['resolved_l1'], stats['resolved'])} L1); "
          f"uncovered themes L2: {_pct(stats['gap_l2'], stats['gap_total'])}; tier labels flipped: {stats['tier_noise']}")
    print(f"without article: {stats['no_article']} ({_pct(stats['no_article'], n)}); "
          f"uncovered themes: {stats['gap_total']} ({_pct(stats['gap_total'], n)}), "
          f"L2 escalations without article: {stats['escalated']}")
    print("gap themes: " + ", ".join(f"{g.key}={stats['gaps'][g.key]}" for g in GAPS))
    print("channels: " + ", ".join(f"{k}={stats['channels'][k]}" for k in CHANNELS)
          + "   plans: " + ", ".join(f"{k}={stats['plans'][k]}" for k in PLANS))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="kb/demo_data", help="output folder (default: kb/demo_data)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default: 7)")
    parser.add_argument("--tickets", type=int, default=2400, help="number of tickets (default: 2400)")
    args = parser.parse_args(argv)
    if args.tickets < 1:
        parser.error("--tickets must be positive")

    validate_content()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    tickets = TicketGenerator(args.seed).generate(args.tickets)
    write_articles(out_dir)
    write_tickets(out_dir, tickets)
    stats = summarize(tickets)
    write_readme(out_dir, stats, args.seed, args.tickets)
    print_summary(stats)
    print(f"wrote {out_dir}/articles/*.md, {out_dir}/tickets.csv, {out_dir}/README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
