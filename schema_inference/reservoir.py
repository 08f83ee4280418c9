"""A uniform random sample of a stream that merges: Li's Algorithm L, and a weighted merge of two samples."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any


class Reservoir:
    """A uniform sample of up to k values from a stream (Li's Algorithm L: O(k log(n/k)) random draws)."""

    __slots__ = ("items", "k", "next", "seen", "w")

    def __init__(self, k: int) -> None:
        self.k, self.seen, self.items = k, 0, []
        self.next, self.w = 0, 0.0

    def offer(self, values: Sequence[Any], rng: random.Random) -> None:
        """Offer values in order; only the ones Algorithm L picks are touched."""
        start, count = self.seen, len(values)
        if start < self.k:
            take = min(self.k - start, count)
            self.items.extend(values[:take])
            self.seen = start + take
            if self.seen == self.k:
                self._restart(rng, math.exp(math.log(_unit(rng)) / self.k))
            if take == count:
                return
        end = start + count
        while self.next <= end:
            self.items[rng.randrange(self.k)] = values[self.next - start - 1]
            self.seen = self.next
            self._restart(rng, self.w * math.exp(math.log(_unit(rng)) / self.k))
        self.seen = end

    def _restart(self, rng: random.Random, w: float) -> None:
        """Set the skip state: `w` is the largest random key among the kept values."""
        self.w = w
        self.next = self.seen + math.floor(math.log(_unit(rng)) / math.log1p(-w)) + 1

    def merge(self, other: Reservoir, rng: random.Random) -> None:
        """Become a uniform sample of both streams: draw from each in proportion to what it has seen."""
        total = self.seen + other.seen
        if total <= self.k:
            self.items = self.items + other.items
        else:
            mine, theirs = self.items[:], other.items[:]
            rng.shuffle(mine)
            rng.shuffle(theirs)
            left_mine, left_theirs, drawn = self.seen, other.seen, []
            for _ in range(self.k):  # sequential draws without replacement = the hypergeometric split
                if rng.random() * (left_mine + left_theirs) < left_mine:
                    drawn.append(mine.pop())
                    left_mine -= 1
                else:
                    drawn.append(theirs.pop())
                    left_theirs -= 1
            self.items = drawn
        self.seen = total
        if total >= self.k:
            # The k-th smallest of `total` uniform keys is Beta(k, total - k + 1): exact state to go on sampling.
            self._restart(rng, min(rng.betavariate(self.k, total - self.k + 1), 1 - 1e-12))


def _unit(rng: random.Random) -> float:
    """A uniform draw in (0, 1): log() of it is always defined."""
    return rng.random() or 5e-324
