"""Does it matter that HTML article bodies are turned into text before indexing?

The demo knowledge base (72 Markdown articles) is rendered to HTML as a help center keeps it
(headings, paragraphs, lists, bold, links, a wrapping div and the empty spacer paragraphs editors
leave), then imported three ways into fresh databases: the Markdown as written (the reference),
the HTML converted (`body_format: html`, what `import-articles` does with help-desk exports), and
the HTML indexed as it is (`body_format: text`, tags and entities included). Each time the demo
tickets that an article resolved are triaged cold (articles only, no model trained) and the
suggestions scored: hit@1, hit@3, MRR. Also prints the passages per article and the time to
convert every article.

    python scripts/bench_html_import.py
"""
import html
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchlib import fresh_runtime, hits  # noqa: E402

from kb import service as kb_service  # noqa: E402
from kb.importers import normalise, read_articles  # noqa: E402
from application.demo import DEMO_DIR, demo_records  # noqa: E402
from triage.tables import ticket_text  # noqa: E402


LIST_MARK = re.compile(r"^(- |\d+\. )")


def inline(text: str) -> str:
    text = html.escape(text, quote=False)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"\[(.+?)\]\((.+?)\)", r'<a href="\2" target="_blank" rel="noopener">\1</a>', text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)


def to_html(markdown: str) -> str:
    """The Markdown of the demo articles as a help center's editor stores it."""
    out = ['<div class="article-body">']
    for block in re.split(r"\n\s*\n", markdown.strip()):
        lines = block.splitlines()
        if block.startswith("#"):
            level = len(block) - len(block.lstrip("#"))
            out.append(f'<h{level + 1} id="h_{len(out)}">{inline(block.lstrip("# "))}</h{level + 1}>')
        elif all(LIST_MARK.match(line) for line in lines):
            tag = "ol" if lines[0][0].isdigit() else "ul"
            items = "".join(f"<li><p>{inline(LIST_MARK.sub('', line))}</p></li>" for line in lines)
            out.append(f"<{tag}>{items}</{tag}>")
        else:
            out.append(f"<p>{inline(' '.join(lines))}</p>")
        out.append("<p>&nbsp;</p>")
    return "\n".join(out + ["</div>"])


def run(items: list[dict], queries: list[str], truth: list[str]) -> dict:
    rt = fresh_runtime("kbt-bench-html-")
    with rt.db.session() as session:
        kb_service.upsert_many(session=session, store=rt.store, items=items, chunk_words=rt.settings.chunk_words)
    decisions = rt.engine.decide(queries, k=3)
    return {**hits(decisions, truth), "passages per article": round(rt.store.index().count() / len(items), 2)}


articles = read_articles(DEMO_DIR / "articles")
linked = [r for r in demo_records() if r["article"]]
queries, truth = [ticket_text(r["subject"], r["body"]) for r in linked], [r["article"] for r in linked]
pages = {a["id"]: to_html(a["body"]) for a in articles}
started = time.perf_counter()
converted = [normalise({**a, "body": pages[a["id"]], "body_format": "html"}, a["id"]) for a in articles]
seconds = time.perf_counter() - started
raw = [normalise({**a, "body": pages[a["id"]], "body_format": "text"}, a["id"]) for a in articles]
print(f"{len(articles)} articles, {len(queries)} tickets an article resolved; HTML {sum(map(len, pages.values())):,} "
      f"characters, converted in {seconds * 1000:.0f} ms")
print("| articles imported as | hit@1 | hit@3 | MRR | passages per article |")
print("|---|---|---|---|---|")
for name, items in (("Markdown, as written (reference)", articles), ("HTML, converted (the default)", converted),
                    ("HTML, indexed as it is", raw)):
    r = run(items, queries, truth)
    print(f"| {name} | {r['hit@1']} | {r['hit@3']} | {r['mrr']} | {r['passages per article']} |", flush=True)
