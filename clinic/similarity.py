"""How alike two questions are, from 0 to 1: the lower of two scores, so that
both must agree.
- the cosine similarity of their character n-grams (3 to 5 characters within
  words, TF-IDF weighted), which sees past typos and word forms;
- the share of words they have in common (Jaccard of normalised word sets),
  which keeps "absolutely" apart from "absolutely not" (0.96 by characters
  alone, 0.50 by words).

LOOKALIKE: two examples of different intents scoring at least this are
reported. Measured on data/nlu.yml (1,401 examples) with
`python -m clinic.similarity`: no pair of different intents scores 0.75 or
more; 2 score 0.70-0.71 ("i want to talk to someone at the clinic",
clinic_contact / "I'd rather talk to someone at the clinic", request_human),
7 score 0.6 or more, 17 score 0.5 or more, most of these being meant
("thank you" / "no thank you").
"""
from __future__ import annotations

import sys
from typing import List, Sequence, Tuple

from clinic.project import normalise

LOOKALIKE = 0.70


def _char_scores(queries: Sequence[str], corpus: Sequence[str]):
    from sklearn.feature_extraction.text import TfidfVectorizer  # not at import: ~1 s

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), lowercase=True,
                                 sublinear_tf=True)
    vectorizer.fit(list(corpus) + list(queries))
    return (vectorizer.transform(list(queries)) @ vectorizer.transform(list(corpus)).T).toarray()


def _words(text: str) -> frozenset:
    return frozenset(normalise(text).split())


def scores(queries: Sequence[str], corpus: Sequence[str]):
    """Matrix of how alike each query is to each corpus text."""
    matrix = _char_scores(queries, corpus)
    query_words = [_words(text) for text in queries]
    corpus_words = [_words(text) for text in corpus]
    for i, j in zip(*(matrix >= 0.3).nonzero()):  # words only where characters agree
        union = query_words[i] | corpus_words[j]
        common = len(query_words[i] & corpus_words[j]) / len(union) if union else 1.0
        matrix[i, j] = min(matrix[i, j], common)
    matrix[matrix < 0.3] = 0.0
    return matrix


def most_similar(queries: Sequence[str], corpus: Sequence[str]) -> List[Tuple[int, float]]:
    """For each query, the index of the most alike corpus text and the score."""
    if not corpus or not queries:
        return [(-1, 0.0) for _ in queries]
    return [(int(row.argmax()), float(row.max())) for row in scores(queries, corpus)]


def similarity_matrix(texts: Sequence[str]):
    return scores(texts, texts)


def cross_intent_pairs(examples: Sequence[Tuple[str, str]], threshold: float = LOOKALIKE
                       ) -> List[Tuple[float, Tuple[str, str], Tuple[str, str]]]:
    """Pairs of (text, intent) with different intents scoring at or above threshold,
    most alike first."""
    matrix = similarity_matrix([text for text, _ in examples])
    found = [(float(matrix[i, j]), examples[i], examples[j])
             for i, j in zip(*(matrix >= threshold).nonzero())
             if i < j and examples[i][1] != examples[j][1]]
    return sorted(found, key=lambda pair: -pair[0])


def measure(examples: Sequence[Tuple[str, str]]) -> str:
    """Each example's nearest neighbour: within its intent and in another intent."""
    import numpy

    scores = similarity_matrix([text for text, _ in examples])
    numpy.fill_diagonal(scores, -1)
    intents = numpy.array([intent for _, intent in examples])
    same = numpy.where(intents[:, None] == intents[None, :], scores, -1).max(axis=1)
    other = numpy.where(intents[:, None] != intents[None, :], scores, -1).max(axis=1)
    lines = [f"{len(examples)} examples; nearest neighbour scores (percentiles 50/90/99/max):",
             "  same intent:    " + " ".join(f"{numpy.percentile(same, p):.2f}"
                                             for p in (50, 90, 99, 100)),
             "  another intent: " + " ".join(f"{numpy.percentile(other, p):.2f}"
                                             for p in (50, 90, 99, 100))]
    for threshold in (0.5, 0.6, 0.7, 0.75):
        lines.append(f"  examples with another intent's example at >= {threshold:.1f}: "
                     f"{int((other >= threshold).sum())}")
    return "\n".join(lines)


if __name__ == "__main__":
    from clinic.project import Project, pairs

    print(measure(pairs(Project.locate(sys.argv[1] if len(sys.argv) > 1 else None).nlu)))
