"""`infer()`: the public entry point (SPEC §3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .engine import Query, evaluate, query_from_evidence
from .evidence import Evidence, encode
from .network import Network, load_network


@dataclass(frozen=True, repr=False)
class Result:
    """The answer for one case.

    causes : P(cause present | evidence), sorted descending, for every cause.
    evidence : the encoded evidence (node -> state).
    """

    causes: pd.Series
    evidence: Evidence
    network: Network = field(compare=False)
    method: str = "quickscore"

    def __repr__(self) -> str:
        top = ", ".join(f"{c}={p:.3f}" for c, p in self.causes.head(3).items())
        return f"Result({top}, ...; {len(self.evidence)} observed nodes)"


def _impossible(net: Network, evidence: Evidence) -> ValueError:
    """Name a smallest set of evidence items that together have probability 0."""
    items = dict(evidence)
    for node in list(items):
        trial = {k: v for k, v in items.items() if k != node}
        if evaluate(net, query_from_evidence(net, trial)).total == 0.0:
            items = trial
    conflict = ", ".join(f"{k}={v}" for k, v in items.items()) or "the premise of twitching"
    return ValueError(f"evidence is impossible under the model: {conflict} cannot occur together")


def _posterior(net: Network, evidence: Evidence) -> tuple[np.ndarray, str]:
    answer = evaluate(net, query_from_evidence(net, evidence))
    if not answer.total > 0.0:
        raise _impossible(net, evidence)
    return np.clip(answer.joint / answer.total, 0.0, 1.0), answer.method


def infer(
    evidence: Mapping[str, Any] | Sequence[Mapping[str, Any]] | pd.DataFrame,
    *,
    network: Network | None = None,
) -> "Result | BatchResult":
    """Exact posteriors of every cause given the evidence.

    Parameters
    ----------
    evidence : a dict of SPEC §2 keys (one case), or a list of dicts or a DataFrame
        (one case a row, empty values unknown).
    network : the network to use (default: the bundled priors).

    Examples
    --------
    >>> r = infer({"location": ["arm", "leg"], "duration": 120, "weakness": "none"})
    >>> float(r.causes.sum()) > 0
    True
    """
    net = network if network is not None else load_network()
    if isinstance(evidence, (pd.DataFrame, list, tuple)):
        from .batch import infer_batch

        return infer_batch(evidence, network=net)
    encoded = encode(evidence)
    post, method = _posterior(net, encoded)
    causes = pd.Series(post, index=list(net.causes), name="P(present | evidence)")
    causes = causes.sort_values(ascending=False, kind="stable")
    return Result(causes=causes, evidence=encoded, network=net, method=method)


class BatchResult:  # filled in by model.batch
    pass
