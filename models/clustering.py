"""Groups of similar texts: clustering of normalised embeddings, a group's centre, the terms that
set a group apart and a title proposed for it. The gap worklist and the surge report both use them."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

CLUSTER_DISTANCE = 0.55  # cosine distance; MiniLM puts paraphrases of one need well inside this
STOP = set("""a an the and or but if of to in on at for with from by as is are was were be been it its this that
these those i me my we our you your he she they them their there here not no can can't cannot could would should
will just so do does did done have has had get got please thanks thank hi hello dear regards team any all some
what when where which who why how also still again now one two need want like using use used able
dont doesn isn wasn didn don won aren weren hasn haven""".split())


def distinctive_terms(texts: list[str], labels: np.ndarray, top: int = 6) -> dict[int, list[str]]:
    """Class-based TF-IDF: words frequent in a cluster and rare in the other candidates."""
    from sklearn.feature_extraction.text import CountVectorizer

    vec = CountVectorizer(stop_words=sorted(STOP), token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z0-9\-]{2,}\b",
                          ngram_range=(1, 2), min_df=2)
    try:
        counts = vec.fit_transform(texts)
    except ValueError:  # nothing but stop words
        return {}
    vocab = np.array(vec.get_feature_names_out())
    clusters, rows = np.unique(labels, return_inverse=True)
    # Term counts per cluster, kept sparse: clusters x vocabulary is large for thousands of tickets.
    per = (sp.csr_matrix((np.ones(len(labels)), (rows, np.arange(len(labels)))),
                         shape=(len(clusters), len(labels))) @ counts).tocsr()
    per.sort_indices()
    sizes = np.asarray(per.sum(1)).ravel()
    idf = np.log(1 + sizes.mean() / np.maximum(np.asarray(per.sum(0)).ravel(), 1))
    out = {}
    for i, c in enumerate(clusters):
        row = per.getrow(i)
        score = row.data / max(sizes[i], 1) * idf[row.indices]
        best = np.argsort(-score, kind="stable")[:top]
        out[c] = [vocab[row.indices[j]] for j in best if score[j] > 0]
    return out


def proposed_title(subjects: list[str], terms: list[str]) -> str:
    """The subject of the most central ticket that has a usable one, else the top terms."""
    for subject in subjects:
        subject = " ".join(subject.split())
        if 8 <= len(subject) <= 90:
            return subject[0].upper() + subject[1:]
    return " / ".join(terms[:3]).capitalize() if terms else "Untitled gap"


def cluster(embeddings: np.ndarray) -> np.ndarray:
    """Cluster labels of normalised embeddings: average linkage, cut at CLUSTER_DISTANCE."""
    from sklearn.cluster import AgglomerativeClustering

    return AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                   distance_threshold=CLUSTER_DISTANCE).fit_predict(embeddings)


def centre(emb: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A group's normalised centroid, and its members (``idx`` into ``emb``) closest first."""
    centroid = emb[idx].mean(0)
    centroid /= np.linalg.norm(centroid) or 1.0
    return centroid, idx[np.argsort(-(emb[idx] @ centroid))]


def assign(vectors: np.ndarray, members: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """For each of ``vectors`` (normalised), the cluster of ``labels`` (over ``members``) whose
    tickets it is closest to on average, or -1 when that average cosine distance is beyond the cut.
    The mean distance to a cluster's members is 1 - the dot product with their (unnormalised) mean."""
    clusters = np.unique(labels)
    means = np.vstack([members[labels == c].mean(0) for c in clusters])
    distance = 1.0 - vectors @ means.T
    best = distance.argmin(1)
    return np.where(distance[np.arange(len(vectors)), best] <= CLUSTER_DISTANCE, clusters[best], -1)
