"""Experiment: does fine-tuning the encoder on the tickets beat the default hybrid model?

Fine-tunes the packaged MiniLM (mean pooling + a linear head, cross-entropy, AdamW with warm-up
and linear decay, max 64 tokens) on the fit part of the eval-cli 80/20 split, then scores on the
held-back part: the head alone, and the default feature set (word + char TF-IDF + the tuned
embedding at weight 1/2/3) -> LinearSVC. Compare with `bench_classify.py` (frozen encoder).
CPU only; banking77 takes about 20 minutes for 3 epochs on 2 cores.

    python scripts/bench_finetune.py banking77 [--epochs 3] [--lr 1e-4]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=["banking77", "it_tickets"])
    parser.add_argument("--datasets", default=str(Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from sentence_transformers import SentenceTransformer
    from sklearn.svm import LinearSVC

    from benchlib import split
    from models.encoder_spec import resolve_model_path
    from models.features import TextFeatures

    torch.manual_seed(0)
    fit, val = split(Path(args.datasets) / args.dataset / "train.csv", "category")
    labels = sorted({y for _, y in fit})
    index = {label: i for i, label in enumerate(labels)}
    fit_texts, fit_y = [t for t, _ in fit], np.array([index[y] for _, y in fit])
    val_texts, val_y = [t for t, _ in val], np.array([index.get(y, -1) for _, y in val])
    st = SentenceTransformer(resolve_model_path("packaged:all-MiniLM-L6-v2"), device="cpu")
    tokenizer, bert = st[0].tokenizer, st[0].auto_model
    head = torch.nn.Linear(bert.config.hidden_size, len(labels))

    def embed(texts):
        batch = tokenizer(texts, padding=True, truncation=True, max_length=64, return_tensors="pt")
        tokens = bert(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        return torch.nn.functional.normalize((tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9), dim=1)

    def encode(texts):
        bert.eval()
        order = np.argsort([len(t) for t in texts])
        out = np.empty((len(texts), bert.config.hidden_size), dtype=np.float32)
        with torch.no_grad():
            for i in range(0, len(texts), 128):
                out[order[i:i + 128]] = embed([texts[j] for j in order[i:i + 128]]).numpy()
        return out

    steps = args.epochs * -(-len(fit_texts) // args.batch)
    opt = torch.optim.AdamW([{"params": bert.parameters(), "lr": args.lr},
                             {"params": head.parameters(), "lr": 1e-2}], weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, s / (0.06 * steps)) * max(0.0, (steps - s) / steps))
    rng = np.random.default_rng(0)
    result = {"dataset": args.dataset, "epochs": [], "command": "python scripts/bench_finetune.py "
              + " ".join(argv if argv is not None else sys.argv[1:])}
    for epoch in range(args.epochs):
        bert.train()
        started, total = time.perf_counter(), 0.0
        perm = rng.permutation(len(fit_texts))
        for i in range(0, len(perm), args.batch):
            rows = perm[i:i + args.batch]
            loss = torch.nn.functional.cross_entropy(head(embed([fit_texts[j] for j in rows])),
                                                     torch.tensor(fit_y[rows]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(rows)
        result["epochs"].append({"loss": round(total / len(perm), 3), "seconds": round(time.perf_counter() - started)})
        print(json.dumps(result["epochs"][-1]), flush=True)
    fit_emb, val_emb = encode(fit_texts), encode(val_texts)
    with torch.no_grad():
        head_pred = head(torch.from_numpy(val_emb)).argmax(1).numpy()
    result["head_accuracy"] = round(float((head_pred == val_y).mean()), 4)
    for weight in (1.0, 2.0, 3.0):
        features = TextFeatures(embedding_weight=weight)
        matrix = features.fit_transform(fit_texts, embeddings=fit_emb)
        pred = LinearSVC(C=1.0).fit(matrix, fit_y).predict(features.transform(val_texts, embeddings=val_emb))
        result[f"svm_tfidf_plus_tuned_embedding_w{weight:g}"] = round(float((pred == val_y).mean()), 4)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
