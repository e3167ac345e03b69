"""The network as a pgmpy `DiscreteBayesianNetwork` (and BIF / XMLBIF files for other tools).

Every table is the exact expansion of the noisy-OR / noisy-MAX links (pgmpy's own
`NoisyORCPD` has no leak). Each cause has an auxiliary switch node
`_twitching_<cause>`, "the cause is making the person twitch": its one parent is the
cause, P(present | cause present) = P(twitching | cause) (`net.twitch`) and
P(present | cause absent) = 0. The twitch regions (`net.regions`) take the switches as
parents, with P(site | cause, twitching) as the link; every other finding takes the
causes. Every cause gets its switch, also one with P(twitching | cause) = 1 (the switch
is then a copy of the cause): the regions' parents are always switches. A finding with
many parents is split into a chain of auxiliary nodes `_<finding>_1`, `_<finding>_2`,
...: each is the largest contribution of its chunk of parents and of the previous node,
so summing them out gives back the finding's table exactly while no table passes
`MAX_TABLE` entries. The chunks are the same blocks of causes for every split finding.
"""

from __future__ import annotations

import math

import numpy as np

# Largest conditional table written (entries); larger noisy-MAX tables are split.
MAX_TABLE = 1 << 16
# Most causes per auxiliary node when a finding is split: small tables keep elimination cheap.
CHUNK_CAUSES = 8
PREMISE_NODE = "_any_twitch"
# The switch of a cause: `_twitching_<cause>`.
SWITCH_PREFIX = "_twitching_"
NETWORK_NAME = "twitchdx"
# What a user of the exported file must know, written at its top (BIF `//` comments, an
# XML comment in XMLBIF) and in the README.
NOTES = (
    "twitchdx: why do a person's muscles twitch? exposures -> causes -> findings (noisy-OR / noisy-MAX),",
    "the twitch regions through a switch per cause (is the cause making the person twitch?).",
    f"The premise node {PREMISE_NODE} is present exactly when some region twitches (twitch_eyelid ... twitch_trunk).",
    f"twitchdx's infer() answers P(cause | evidence, twitching somewhere): observe {PREMISE_NODE} = present",
    "with your evidence to get the same posteriors (without it you ask about people who may not twitch at all).",
    "Binary nodes have the states absent, present. location is six nodes twitch_<region> (regions not named",
    f"are absent); medications is six nodes med_<class>. Node {SWITCH_PREFIX}<cause> (auxiliary) is the cause's",
    "switch, present when the cause is present and making the person twitch (P(twitching | cause)); the",
    "twitch_<region> nodes depend on the switches, every other finding on the causes. Nodes _<finding>_<k>",
    "are auxiliary (a large noisy-MAX table split into a chain). Leave the auxiliary nodes unobserved.",
    "Example (pgmpy): VariableElimination(BIFReader(path).get_model()).query(['als_mnd'],",
    f"    evidence={{'{PREMISE_NODE}': 'present', 'twitch_eyelid': 'present', 'sleep': 'short'}})",
    "equals twitchdx's infer({'twitch_eyelid': True, 'sleep': 'short'}).causes['als_mnd'].",
)


def _noisy_max_table(link: np.ndarray, leak: np.ndarray | None, previous: int) -> np.ndarray:
    """P(node = k | previous node state, causes), shape (K, [K,] 2, ..., 2).

    `link` (r, K): each cause's contribution distribution when present. The node's
    state is the max of the previous node's state (if `previous`), the leak's and the
    present causes' contributions.
    """
    r, k = link.shape
    cdf = np.cumsum(link, axis=1)  # (r, K)
    cdf[:, -1] = 1.0
    grids = np.indices((2,) * r).reshape(r, 2**r).T  # (2^r, r): 1 = present (also r = 0: no causes)
    # P(max <= k | config) = prod over present causes of cdf_i(k)
    below = np.ones((grids.shape[0], k))
    for i in range(r):
        below *= np.where(grids[:, i : i + 1] == 1, cdf[i], 1.0)
    if leak is not None:
        leak_cdf = np.cumsum(leak)
        leak_cdf[-1] = 1.0
        below = below * leak_cdf
    if previous:
        # previous state s: P(max <= k) is 0 for k < s
        step = np.tri(k, k, dtype=float).T  # step[s, k] = 1 if s <= k
        below = step[:, None, :] * below[None]  # (K_prev, 2^r, K)
    pmf = np.diff(below, axis=-1, prepend=0.0)
    pmf = np.clip(pmf, 0.0, 1.0)
    pmf = np.moveaxis(pmf, -1, 0)  # (K, [K_prev,] 2^r)
    return pmf.reshape((k,) + ((k,) if previous else ()) + (2,) * r)


def _chunks(items: list, size: int) -> list[list]:
    n = math.ceil(len(items) / size)
    bounds = np.linspace(0, len(items), n + 1).round().astype(int)
    return [items[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def switch_node(cause: str) -> str:
    """The name of `cause`'s switch node, "`cause` is making the person twitch"."""
    return SWITCH_PREFIX + cause


def to_pgmpy(net):
    """Build the pgmpy network. Binary nodes have states `absent`, `present`.

    It also holds a switch `_twitching_<cause>` per cause (the regions' parents) and
    `_any_twitch`, present exactly when some region twitches: observe it `present` to
    ask pgmpy the question `infer()` answers (SPEC §7.3).
    """
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    cpds, edges = [], []
    names = {}

    def cpd(node, states, table, parents):
        names[node] = list(states)
        card = [len(names[p]) for p in parents]
        values = np.asarray(table, dtype=float).reshape(len(states), -1)
        cpds.append(
            TabularCPD(
                node,
                len(states),
                values,
                evidence=list(parents) or None,
                evidence_card=card or None,
                state_names={node: list(states), **{p: names[p] for p in parents}},
            )
        )
        edges.extend((p, node) for p in parents)

    for e in net.exposures:
        cpd(e, net.states[e], net.exposure_prob[e].reshape(-1, 1), [])
    for c in net.causes:
        t = net.cause_table[c].ravel()
        cpd(c, ("absent", "present"), np.vstack([1.0 - t, t]), list(net.cause_parents[c]))
    for c in net.causes:
        # every cause, also one with twitch 1 (then a copy of the cause), so that the
        # regions' parents are always switches
        tau = float(net.twitch[c])
        cpd(switch_node(c), ("absent", "present"), [[1.0, 1.0 - tau], [0.0, tau]], [c])
    blocks = _chunks(list(range(len(net.causes))), CHUNK_CAUSES)
    for f in net.findings:
        link, leak, states = net.link[f], net.leak[f], net.states[f]
        sources = [switch_node(c) for c in net.causes] if f in net.regions else list(net.causes)
        k = len(states)
        linked = [i for i in range(len(net.causes)) if link[i, 0] < 1.0]
        if k * 2 ** len(linked) <= MAX_TABLE:
            cpd(f, states, _noisy_max_table(link[linked], leak, 0), [sources[i] for i in linked])
            continue
        previous = None
        # every split finding is split at the same causes (the blocks of all causes, each
        # finding's linked ones in them): pgmpy's elimination heuristics then find a cheap
        # order, where chains split at different causes per finding made queries ~10x slower
        chunks = [[i for i in block if i in linked] for block in blocks]
        chunks = [chunk for chunk in chunks if chunk]
        for j, chunk in enumerate(chunks):
            node = f if j == len(chunks) - 1 else f"_{f}_{j + 1}"
            parents = ([previous] if previous else []) + [sources[i] for i in chunk]
            table = _noisy_max_table(link[chunk], leak if j == 0 else None, 1 if previous else 0)
            cpd(node, states, table, parents)
            previous = node
    # the premise: deterministic OR of the regions
    r = len(net.regions)
    any_twitch = np.indices((2,) * r).reshape(r, -1).any(axis=0).astype(float)
    cpd(PREMISE_NODE, ("absent", "present"), np.vstack([1.0 - any_twitch, any_twitch]), list(net.regions))

    model = DiscreteBayesianNetwork(edges)
    model.name = NETWORK_NAME
    model.add_nodes_from(names)
    model.add_cpds(*cpds)
    model.check_model()
    return model


FORMATS = ("bif", "xmlbif")


def write(net, path, fmt: str = "bif") -> None:
    """Write the network as BIF or XMLBIF (pgmpy's writers; full precision), named
    `twitchdx`, with NOTES (the premise node, the node names) as a comment at the top."""
    from pgmpy.readwrite import BIFWriter, XMLBIFWriter

    if fmt not in FORMATS:
        raise ValueError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
    model = to_pgmpy(net)
    text = str({"bif": BIFWriter, "xmlbif": XMLBIFWriter}[fmt](model))
    if fmt == "bif":
        text = "".join(f"// {line}\n" for line in NOTES) + text
    else:  # after the XML declaration, if any; "--" may not appear inside an XML comment
        comment = "<!--\n" + "".join(f"  {line.replace('--', '- -')}\n" for line in NOTES) + "-->\n"
        if text.startswith("<?xml"):
            head, _, rest = text.partition("?>")
            text = head + "?>\n" + comment + rest.lstrip("\n")
        else:
            text = comment + text
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
