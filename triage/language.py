"""Is a ticket written in a language the English encoder reads well? A dependency-free guess.

The deployment's encoder (all-MiniLM-L6-v2) was trained on English: a German or Chinese ticket
still gets a vector, and a classifier still gets a confident-looking probability from it, but
neither means much. :func:`assess` measures how far a ticket's text is from English in two ways:

- the share of its words outside the Latin script (each CJK or kana character counts as half a
  word, since those scripts put no spaces between words): Chinese, Japanese, Korean, Cyrillic, Arabic...
- for Latin-script text, among the short function words it uses (articles, pronouns,
  prepositions, auxiliaries: words every sentence has, whatever it is about), the share that
  belong to German, French, Spanish, Portuguese, Italian or Dutch rather than to English.

Function words, not vocabulary, so that product names, code, log lines, URLs, names in a
signature or a quoted foreign phrase do not tip an English ticket: they carry few function
words, and the ticket's own English sentences carry many. Technical tokens (URLs, e-mail
addresses, paths, identifiers, anything with digits) are dropped before counting.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Below this many foreign function words (and two different ones) a ticket is too short to judge
# ("Bonjour", "Danke", "bitte bitte").
MIN_FOREIGN_WORDS = 3
# Foreign function words must also be at least this share of the ticket's Latin words: in real
# German or French prose they are 30-50%; a name like "Maria de la Cruz" in a long English
# ticket is far below.
MIN_FOREIGN_DENSITY = 0.12
MIN_SCRIPT_UNITS = 2  # fewer non-Latin characters or words than this say nothing

_ENGLISH = """
a an the and or but if then so of to in on at by for with from into about as is are was were be
been being am do does did done have has had i me my mine we our us you your he him his she her it
its they them their this that these those there here what which who whom when where why how not
no nor can could will would shall should may might must cannot any some all each every after
before since until still just also only again get got up out than too very need needs help want
please thanks thank hi hello dear regards yes yet over under while because though off t ll ve re
per via
""".split()
_FOREIGN = {
    "German": """
der die das den dem des ein eine einen einem einer eines und oder aber nicht kein keine keinen
ich mich mir mein meine meinen meinem meiner wir uns unser unsere sie ihr ihre ihren ihnen es
ist sind wurde wurden werden wird habe hast hat haben hatte kann kannst können konnte muss
müssen soll sollte bitte danke mit von vom zu zum zur auf im ins bei beim nach seit aus für
über um noch schon auch nur wie wenn dass weil ob sehr mehr immer heute jetzt leider hallo gibt
dieser diese dieses diesem diesen sich wieder doch mal dann dort hier sein seine gerne
""",
    "French": """
le la les un une des du de et ou mais je j tu il elle nous vous ils elles mon ma mes ton ta tes
votre vos notre nos son sa ses ce cet cette ces qui que qu quoi dans sur pour par avec sans chez
depuis pas ne n plus est sont suis ai avez avons ont été fait peux pouvez peut merci bonjour au
aux à y en leur très aussi toujours encore déjà comment pourquoi quand l c cela ça rien
""",
    "Spanish": """
el la los las un una unos unas y o pero de del al en con sin por para que qué mi mis tu su sus
nuestro nuestra yo te se le lo les nos es son está están estoy estaba ha han hay fue puedo puede
pueden muy más ya también todavía desde hasta cuando como cómo porque hola gracias favor este
esta esto estos ese esa eso mucho pero sí mí tengo tiene ayuda
""",
    "Portuguese": """
o os um uma e ou mas de do da dos das na nos nas em com sem por para pelo pela que eu meu minha
meus minhas você vocês ele ela nós seu sua é são está estou foi tem tenho não já mais muito também
ainda quando como porque olá obrigado obrigada isso este esta ao consigo meu ajuda
""",
    "Italian": """
il lo la gli le un uno una e ed o ma di del della dello dei delle da dal dalla nel nella con su
per tra fra che non mi ti si ci mio mia miei mie è sono ho hai ha hanno abbiamo posso può più
molto anche ancora già quando come perché ciao grazie buongiorno questo questa quello l sul
""",
    "Romanian": """
și si în la de cu pe nu să sa se ca că care este sunt ai mai din pentru va vă ne mi îmi imi te
acest această aceasta fost fi poate vreau rog mulțumesc multumesc bună buna ziua într intr doar
dacă daca sau dar cum nici fără fara unei unui cel cea
""",
    "Dutch": """
de het een en maar ik mij mijn je jij jouw u uw wij ons onze hij zij ze zijn ben heb hebt heeft
hebben kan kunnen niet geen met van voor naar op bij uit door om dat die dit deze wat wie waar
hoe nog al ook wel erg heel graag bedankt dank hallo er worden wordt
""",
}
# Words that are also English words or abbreviations in tickets ("door", "OS", "Mon", "et" for
# ET, "hat", "war"): they would make an English ticket look foreign, and are left out.
_AMBIGUOUS = frozenset("door al ben op os et mon son plus pour est hat war den mal um sin des".split())
# A word English also uses counts as English: "in", "die", "was" cannot tell German from English.
ENGLISH_WORDS = frozenset(_ENGLISH)
FOREIGN_WORDS = {lang: frozenset(words.split()) - ENGLISH_WORDS - _AMBIGUOUS for lang, words in _FOREIGN.items()}

# Scripts without spaces between words: each character counts as half a word (a Chinese word is
# 1.5-2 characters), so a short quoted error message does not outweigh the English around it.
_SPACELESS = {"CJK", "HIRAGANA", "KATAKANA"}
_SCRIPT_NAMES = {"CJK": "Chinese", "HANGUL": "Korean", "CYRILLIC": "Cyrillic script",
                 "ARABIC": "Arabic script", "GREEK": "Greek", "HEBREW": "Hebrew", "THAI": "Thai",
                 "DEVANAGARI": "Devanagari script"}
# Technical chunks: URLs, e-mail addresses, paths, identifiers, numbers, key=value, markup.
_TECHNICAL = re.compile(r"(?:https?://|www\.)|[@_/\\=<>{}\[\]|#$%^*~`\d]|\w\.\w|\w:\w|\w::\w")
_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class Verdict:
    """How far a text is from English: ``share`` in [0, 1], the language guessed where it can be,
    and ``flag``: whether the share reached the threshold asked for."""

    flag: bool
    share: float
    language: str | None = None

    def describe(self) -> str:
        """The reason a flagged ticket goes to review."""
        return (f"written in {self.language or 'another language'}: the English encoder reads it poorly, "
                "so it goes to review")


def _script(ch: str) -> str:
    if ch.isascii():
        return "LATIN"
    name = unicodedata.name(ch, "")
    first = name.split(" ", 1)[0]
    if first in ("LATIN", "FULLWIDTH") or not name:
        return "LATIN"
    return first


def _words(text: str) -> tuple[list[str], dict[str, float]]:
    """The text's Latin-script words (lower-cased) and its non-Latin units per script."""
    latin: list[str] = []
    scripts: dict[str, float] = {}
    for chunk in text.split():
        if _TECHNICAL.search(chunk):
            continue
        for token in _WORD.findall(chunk):
            if token.isascii():
                latin.append(token)
                continue
            run, kind = "", None
            for ch in token + " ":
                s = _script(ch) if ch != " " else None
                if s != kind and run:
                    if kind == "LATIN":
                        latin.append(run)
                    else:
                        scripts[kind] = scripts.get(kind, 0) + (len(run) / 2 if kind in _SPACELESS else 1)
                    run = ""
                run, kind = run + ch if s else run, s
    shouting = sum(w.isupper() for w in latin) * 2 > len(latin)
    # Acronyms (IT, DE, ES, SAP) say nothing about the language, unless the whole ticket shouts.
    latin = [w.lower() for w in latin if shouting or len(w) < 2 or not w.isupper()]
    return latin, scripts


def assess(text: str, threshold: float = 0.5) -> Verdict:
    """The verdict on one ticket text; ``threshold``: the share of non-English evidence (words
    outside the Latin script, or foreign function words among the function words) at which it
    is flagged (0: never flag)."""
    latin, scripts = _words(text)
    verdicts = [Verdict(flag=False, share=0.0)]
    units = sum(scripts.values())
    if units >= MIN_SCRIPT_UNITS:
        script = max(scripts, key=scripts.get)
        language = ("Japanese" if {"HIRAGANA", "KATAKANA"} & scripts.keys()
                    else _SCRIPT_NAMES.get(script, "a non-Latin script"))
        verdicts.append(_verdict(units / (units + len(latin)), language, threshold))
    counts = {lang: sum(w in words for w in latin) for lang, words in FOREIGN_WORDS.items()}
    language = max(counts, key=counts.get)
    foreign = counts[language]
    distinct = len(FOREIGN_WORDS[language].intersection(latin))
    if foreign >= MIN_FOREIGN_WORDS and distinct >= 2 and foreign >= MIN_FOREIGN_DENSITY * len(latin):
        english = sum(w in ENGLISH_WORDS for w in latin)
        verdicts.append(_verdict(foreign / (foreign + english), language, threshold))
    return max(verdicts, key=lambda v: v.share)


def _verdict(share: float, language: str, threshold: float) -> Verdict:
    return Verdict(flag=bool(threshold) and share >= threshold, share=round(share, 3), language=language)


def english_encoder(name: str) -> bool:
    """Whether an encoder's name says it reads English only (a multilingual one needs no flag)."""
    lowered = name.lower()
    return not any(m in lowered for m in ("multilingual", "labse", "xlm", "bge-m3", "-m3", "mbert", "distiluse"))
