"""Which card of a page each card found in its new text is, so that a card keeps its id, and
every user's schedule of it, through edits of the page.

The rule, in two passes over the cards found (in page order):

1. **Same question.** A card found with exactly the question (and kind) of a known card is
   that card, whatever its answer or position now. Among several known cards with that
   question (duplicates), a card still on the page is preferred to a retired one, then the
   nearest in position. So an edited answer, a moved line and two swapped lines all keep
   their cards, and a deleted line typed back brings back its retired card.
2. **Slightly changed question.** The cards still unmatched are paired with the known cards
   still unmatched *that were on the page until now* (not retired ones), by the similarity of
   their questions (difflib's ratio): at least ``SIMILAR`` alone, or ``SIMILAR_SAME_ANSWER``
   when the answers are equal. The most similar pairs are taken first; ties go to the
   nearest position. A reworded question keeps its card; a different one starts a new card.

A known card left unmatched is retired. Cards are never matched across pages.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from wiki.services.cards.extraction import Found

SIMILAR = 0.75
SIMILAR_SAME_ANSWER = 0.5


@dataclass(frozen=True)
class Known:
    """A card the page already has."""

    id: int
    position: int
    kind: str
    question: str
    answer: str
    retired: bool


def match(known: Sequence[Known], found: Sequence[Found]) -> list[int | None]:
    """For each card in *found* (its position is its index), the id of the known card it is,
    or None for a new card."""
    matched: list[int | None] = [None] * len(found)
    taken: set[int] = set()
    for position, card in enumerate(found):
        same = [k for k in known if k.id not in taken and (k.kind, k.question) == (card.kind,
                                                                                   card.question)]
        if same:
            best = min(same, key=lambda k: (k.retired, abs(k.position - position), k.position))
            matched[position] = best.id
            taken.add(best.id)
    candidates = []
    for position, card in enumerate(found):
        if matched[position] is not None:
            continue
        for k in known:
            if k.id in taken or k.retired or k.kind != card.kind:
                continue
            score = SequenceMatcher(None, k.question, card.question).ratio()
            threshold = SIMILAR_SAME_ANSWER if k.answer == card.answer else SIMILAR
            if score >= threshold:
                candidates.append((-score, abs(k.position - position), position, k.id))
    for _score, _distance, position, card_id in sorted(candidates):
        if matched[position] is None and card_id not in taken:
            matched[position] = card_id
            taken.add(card_id)
    return matched
