"""From P(level >= k) to the triage levels, urgency and advice: the one place this is
computed (docs/model.md, "Triage").

The engine gives, for k = routine, soon, emergency, the mass of the evidence with no
rule of level >= k holding and every cause of level >= k absent (`safe`). Then

    P(level >= k) = 1 - safe_k / P(evidence)   (1 where a rule of level >= k holds),

made monotone in k (rounding can break it), and P(level) is its differences.
`urgency` is P(soon or emergency); the advice is the level whose expected loss under
the network's loss matrix (triage.toml) is smallest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..network.vocabulary import TRIAGE_LEVELS

LEVELS = TRIAGE_LEVELS
# urgency is P(level >= URGENT): the case needs a doctor soon or now (docs/model.md)
URGENT = TRIAGE_LEVELS.index("soon")


def at_least(safe: np.ndarray, total: np.ndarray) -> np.ndarray:
    """P(level >= k) (rows, 3) from the safe masses (rows, 3) and P(evidence) (rows,).

    A safe mass of exactly 0 (a rule of level >= k holds on the row, or NaN where the
    box was not asked) gives 1. The result is made monotone in k and clipped to [0, 1]."""
    holds = (safe == 0.0) | np.isnan(safe)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(holds, 1.0, 1.0 - safe / total[:, None])
    return np.clip(np.minimum.accumulate(out, axis=1), 0.0, 1.0)


def distribution(at_least: np.ndarray) -> np.ndarray:
    """P(level) (..., 4) from P(level >= k) (..., 3), k = routine..emergency."""
    at_least = np.asarray(at_least, dtype=float)
    ones = np.ones(at_least.shape[:-1] + (1,))
    ge = np.concatenate([ones, at_least, 0.0 * ones], axis=-1)
    return np.clip(ge[..., :-1] - ge[..., 1:], 0.0, 1.0)


def urgency(probs: np.ndarray) -> np.ndarray | float:
    """P(soon or emergency) of a triage distribution (..., 4): a float for one row."""
    u = np.asarray(probs, dtype=float)[..., URGENT:].sum(axis=-1)
    return float(u) if np.ndim(u) == 0 else u


def expected_loss(net, probs: np.ndarray, loss: np.ndarray | None = None) -> np.ndarray:
    """Expected loss of each advice level (..., 4) under the triage distribution(s)
    `probs`, with the network's loss matrix or `loss` (..., 4, 4) (true level x advice)."""
    if loss is None:
        return np.asarray(probs) @ net.triage.loss
    return np.einsum("...t,...ta->...a", probs, loss)


def advise(net, probs: np.ndarray, loss: np.ndarray | None = None) -> np.ndarray | int:
    """The index of the advised level: the smallest expected loss (an int for one row)."""
    a = expected_loss(net, probs, loss).argmin(axis=-1)
    return int(a) if np.ndim(a) == 0 else a


@dataclass(frozen=True)
class Level:
    """The triage of one case or of rows: P(level) (..., 4), urgency, the advice's index
    and the expected loss of each advice."""

    probs: np.ndarray
    urgency: np.ndarray | float
    advice: np.ndarray | int
    expected_loss: np.ndarray

    @classmethod
    def of(cls, net, probs: np.ndarray, loss: np.ndarray | None = None) -> "Level":
        """The levels of triage distribution(s) `probs` under the network's loss matrix."""
        expected = expected_loss(net, probs, loss)
        a = expected.argmin(axis=-1)
        return cls(np.asarray(probs), urgency(probs), int(a) if np.ndim(a) == 0 else a, expected)

    @property
    def advice_name(self):
        """The advised level's name (an array of names for rows)."""
        return LEVELS[self.advice] if np.ndim(self.advice) == 0 else np.array(LEVELS, dtype=object)[self.advice]
