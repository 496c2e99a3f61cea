"""What the leak check found: the photos compared, every verified candidate pair, the calibration's
pairs and synthetic copies, and the judgement (which queries have a near-copy in train, per split)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from facemask.data.leak_check_features import Keys
from facemask.data.leak_check_options import LeakOptions


@dataclass
class Compared:
    """The photos compared: train, and the queries (val/test photos) with their split."""

    root: Path
    splits: list[str]
    train: list[Path]
    queries: list[Path]
    query_split: list[str]

    @property
    def train_id(self) -> list[str]:
        return [f"train/{f.name}" for f in self.train]

    @property
    def query_id(self) -> list[str]:
        return [f"{s}/{f.name}" for s, f in zip(self.query_split, self.queries, strict=True)]


@dataclass
class Found:
    """A verified candidate pair: a query, a train photo, and their match."""

    query: int
    train: int
    inliers: int
    mirrored: bool
    spread: float
    vote_rank: int  # the train photo's place in each candidate ranking
    cnn_rank: int


@dataclass
class Synthetic:
    """The augmented copies of queries made for calibration: of which query, how, and how they did."""

    of: list[int] = field(default_factory=list)  # query index of each copy
    seeds: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was done to it, in words
    ranks: list[tuple[int, int, bool]] = field(default_factory=list)  # by votes, by CNN, among the candidates
    scores: list[tuple[int, bool, float]] = field(default_factory=list)  # inliers, mirrored, spread

    @property
    def ids(self) -> list[str]:
        return [f"synthetic/{n}" for n in range(len(self.of))]


@dataclass
class LeakResult:
    """Everything the check found, for its report (leak_check_report) and contact sheets (leak_check_sheets)."""

    compared: Compared
    options: LeakOptions
    k: int  # candidates verified per query
    pairs: list[Found]  # every candidate pair
    random_scores: list[tuple[int, int, int, float]]  # query, train, inliers, spread
    synthetic: Synthetic
    keys: dict[str, Keys]  # by photo id (train/x.jpg, test/y.jpg, synthetic/0)
    times: dict[str, float] = field(default_factory=dict)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # photos that do not decode, and why

    def copy(self, f: Found) -> bool:
        return self.options.is_copy(f.inliers, f.spread)

    @cached_property
    def verified(self) -> list[Found]:
        return [f for f in self.pairs if self.copy(f)]

    @cached_property
    def low_spread(self) -> list[Found]:
        """Pairs with enough inliers that fail on spread, most inliers first."""
        o = self.options
        return sorted(
            (f for f in self.pairs if f.inliers >= o.min_inliers and f.spread < o.min_spread), key=lambda f: -f.inliers
        )

    @cached_property
    def best(self) -> dict[int, Found]:
        """Each query's best verified match, or else its best candidate."""
        return {f.query: f for f in sorted(self.pairs, key=lambda f: (self.copy(f), f.inliers))}

    @cached_property
    def leaks(self) -> list[Found]:
        """The queries with a near-copy in train (their best match), most inliers first."""
        return sorted((f for f in self.best.values() if self.copy(f)), key=lambda f: -f.inliers)

    @cached_property
    def below(self) -> list[Found]:
        """The other queries' best candidates, most inliers first."""
        return sorted((f for f in self.best.values() if not self.copy(f)), key=lambda f: -f.inliers)

    def shares(self) -> dict[str, tuple[int, int, float]]:
        """Per split: photos checked, those with a near-copy in train, and their share."""
        out, split = {}, self.compared.query_split
        for s in self.compared.splits:
            n = split.count(s)
            count = sum(split[f.query] == s for f in self.leaks)
            out[s] = (n, count, count / n if n else 0.0)
        return out

    @property
    def failed(self) -> bool:
        return any(share > self.options.max_share for _, _, share in self.shares().values())
