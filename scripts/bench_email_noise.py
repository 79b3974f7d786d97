"""Tickets that came in by email: does cutting the mail client's additions help the classifier?

Synthetic, and said so: the public datasets hold no email noise (no text in banking77, CLINC150
or it_tickets, nor in the demo tickets, is changed by triage/email_text.py). So the held-back 20%
of a dataset (the eval-cli split) is dressed as emails: a greeting, the ticket, a closing, a
signature, sometimes a "Sent from my iPhone" line, a disclaimer, and the quoted earlier message
of the thread (another training ticket of another class, as a reply to an old conversation would
quote it). The product trains on the clean 80% (`kbtriage train`'s code path) and classifies
the held-back tickets four ways: clean, dressed as they are, and dressed then cut by
`message_text` (which `ticket_text` applies to every ticket).

    python scripts/bench_email_noise.py [banking77|clinc150|it_tickets] [--limit N]
"""
import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchlib import fresh_runtime, split  # noqa: E402

GREETINGS = ["Hi,", "Hello team,", "Good morning,", "Dear support,", "Hey there,"]
CLOSINGS = ["Thanks,", "Kind regards,", "Best,", "Many thanks in advance,", "Cheers,"]
NAMES = ["Maria Lopez", "Tom Becker", "Priya Nair", "Olu Adeyemi", "Chen Wei"]
DISCLAIMERS = [
    "This email and any attachments are confidential and intended solely for the addressee. If you "
    "received it in error, please delete it and notify the sender.",
    "CONFIDENTIALITY NOTICE: the information in this message may be privileged. Do not forward it.",
]


def dress(text: str, quoted: str, rng: random.Random) -> str:
    """The ticket as an email client would send it (see the module's docstring)."""
    name = rng.choice(NAMES)
    parts = [rng.choice(GREETINGS), "", text, "", rng.choice(CLOSINGS), name.split()[0]]
    if rng.random() < 0.3:
        parts.append("Sent from my iPhone")
    parts += ["", "-- ", f"{name} | Operations | Northwind Traders", "+44 20 7946 0000"]
    if rng.random() < 0.5:
        parts += ["", rng.choice(DISCLAIMERS)]
    parts += ["", f"On Tue, 4 Jun 2024 at 09:{rng.randrange(60):02d}, Support <help@example.com> wrote:",
              "> Hello,", f"> {quoted}", "> Kind regards, the support team"]
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?", default="banking77", choices=["banking77", "clinc150", "it_tickets"])
    parser.add_argument("--datasets", default=str(Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"))
    parser.add_argument("--limit", type=int, default=None, help="use only this many training rows (smoke runs)")
    args = parser.parse_args()
    label = "intent" if args.dataset == "clinc150" else "category"
    fit, val = split(Path(args.datasets) / args.dataset / "train.csv", label)
    if args.dataset == "clinc150":
        fit, val = [p for p in fit if p[1] != "oos"], [p for p in val if p[1] != "oos"]
    if args.limit:
        fit, val = fit[:args.limit], val[:max(1, args.limit // 4)]

    from application.training import train
    from triage import service as triage_service
    from triage.email_text import message_text

    rng = random.Random(11)
    dressed = []
    for text, y in val:
        quoted = rng.choice([t for t, other in rng.sample(fit, 20) if other != y])
        dressed.append(dress(text, quoted, rng))
    cut = [message_text(d) for d in dressed]
    rt = fresh_runtime("kbt-bench-email-")
    with rt.db.session() as s:
        triage_service.import_tickets(session=s, records=[{"body": t, "category": y} for t, y in fit])
        started = time.perf_counter()
        train(session=s, store=rt.store, encoder=rt.cached_encoder, settings=rt.settings)
    print(f"{args.dataset}: trained on {len(fit):,} clean tickets in {time.perf_counter() - started:.0f} s; "
          f"{len(val):,} held back; message_text gave back the ticket exactly for "
          f"{sum(c == t for c, (t, _) in zip(cut, val)):,} of them")
    truth = [y for _, y in val]
    print("| held-back tickets | accuracy | mean confidence | auto-routed | precision of the auto-routed |")
    print("|---|---|---|---|---|")
    for name, texts in (("clean (as in the dataset)", [t for t, _ in val]), ("dressed as emails, as they are", dressed),
                        ("dressed as emails, then message_text", cut)):
        decisions = rt.engine.decide(texts, k=1)
        acc = sum(d["category"] == y for d, y in zip(decisions, truth)) / len(truth)
        conf = sum(d["category_confidence"] or 0 for d in decisions) / len(decisions)
        auto = [d["category"] == y for d, y in zip(decisions, truth) if d["route"] == "auto"]
        precision = f"{sum(auto) / len(auto):.4f}" if auto else "-"
        print(f"| {name} | {acc:.4f} | {conf:.3f} | {len(auto) / len(truth):.3f} | {precision} |", flush=True)
    print(f"\ncommand: python scripts/bench_email_noise.py {' '.join(sys.argv[1:])}")
    rt.close()


if __name__ == "__main__":
    main()
