"""The network as a pgmpy `DiscreteBayesianNetwork` (and BIF / XMLBIF files for other tools).

Every table is the exact expansion of the noisy-OR / noisy-MAX links (pgmpy's own
`NoisyORCPD` has no leak). The causes' latents are auxiliary nodes:

* the switch `_twitching_<cause>`, "the cause is making the person twitch": its one
  parent is the cause, P(present | cause present) = P(twitching | cause) (`net.twitch`)
  and P(present | cause absent) = 0. Every cause gets its switch, also one with
  P(twitching | cause) = 1 (the switch is then a copy of the cause).
* the site pattern `_sites_<cause>` of a cause with one (`net.spread`; every bundled
  cause): where its twitching is, given the switch. States `none` (the switch off),
  `spread` (P = `net.spread[c]` given the switch on: each region by its link, now
  P(region | cause, spread pattern)) and `only_<region>` (the focal pattern, P = (1 -
  spread) x the region's share `net.focal[c]`: that region alone). Its one parent is the
  switch. The twitch regions (`net.regions`) read the site patterns (a cause without
  one: its switch, with P(site | cause, twitching) as the link) through one chain
  `_regions_1` ... `_regions_<n>` of the sets of regions twitching so far (states
  b<one digit a region>, 64 for six regions), each node reading the previous one and
  one cause's site pattern; a region is its digit of the last node (`_region_chain`).
* the weakness latent `_weak_<cause>` ("the cause's weakness contribution is not
  none", P = 1 - P(weakness none | cause); parent: the cause) of each cause that can
  weaken, and the leak's `_weak_leak` (no parent). `weakness` (`net.weak_finding`)
  reads them, given the latent on contributing mild or marked in the link's proportions;
  the patterns `weak_one_limb`, `weak_shoulders_hips`, `weak_hands_feet`
  (`net.weak_patterns`) read them too, with P(pattern | cause weak) and P(pattern | leak
  weak), so no pattern without weakness.

Every other finding reads the causes. A finding with many parents is split into a chain
of auxiliary nodes `_<finding>_1`, `_<finding>_2`, ...: each is the largest
contribution of its chunk of parents and of the previous node, so summing them out
gives back the finding's table exactly while no table passes `MAX_TABLE` entries. The
chunks are the same blocks of causes for every split finding whose parents are binary
(a finding reading site patterns outside the region chain: one cause a node).
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
# Where a cause's twitching is, given its switch: `_sites_<cause>` (none, spread, only_<region>).
SITES_PREFIX = "_sites_"
# A cause's weakness latent (its weakness contribution is not none): `_weak_<cause>`; the leak's `_weak_leak`.
WEAK_PREFIX = "_weak_"
# The chain of the sets of regions twitching, the regions' parent: `_regions_<k>`.
REGIONS_PREFIX = "_regions_"
NETWORK_NAME = "twitchdx"
# What a user of the exported file must know, written at its top (BIF `//` comments, an
# XML comment in XMLBIF) and in the README.
NOTES = (
    "twitchdx: why do a person's muscles twitch? exposures -> causes -> findings (noisy-OR / noisy-MAX),",
    "the twitch regions through a switch and a site pattern per cause, weakness through a latent per cause.",
    f"The premise node {PREMISE_NODE} is present exactly when some region twitches (twitch_eyelid ... twitch_trunk).",
    f"twitchdx's infer() answers P(cause | evidence, twitching somewhere): observe {PREMISE_NODE} = present",
    "with your evidence to get the same posteriors (without it you ask about people who may not twitch at all).",
    "Binary nodes have the states absent, present. location is six nodes twitch_<region> (regions not named",
    "are absent); medications is six nodes med_<class>; weakness_where is three nodes weak_one_limb,",
    "weak_shoulders_hips, weak_hands_feet. Auxiliary nodes (names starting with _), the causes' latents:",
    f"{SWITCH_PREFIX}<cause> is the cause's switch, present when the cause is present and making the person",
    f"twitch (P(twitching | cause)); {SITES_PREFIX}<cause> (states none, spread, only_<region>; parent: the switch)",
    "is where its twitching is: none when the switch is off, else spread (each region by its link) or one",
    f"region alone (focal). The twitch_<region> nodes read the {SITES_PREFIX}<cause> nodes through one chain",
    f"{REGIONS_PREFIX}1 ... {REGIONS_PREFIX}<n> of the sets of regions twitching so far (states b<one digit a region>:",
    f"b000110 is arm and leg); a region is its digit of the last node. {WEAK_PREFIX}<cause>",
    f"(parent: the cause) and {WEAK_PREFIX}leak are the weakness latents (the cause's, the leak's weakness is",
    "not none): weakness and the weak_* patterns read them (no pattern without weakness); every other",
    "finding reads the causes. Nodes _<finding>_<k> split a large noisy-MAX table into a chain.",
    "Leave the auxiliary nodes unobserved.",
    "Example (pgmpy): VariableElimination(BIFReader(path).get_model()).query(['als_mnd'],",
    f"    evidence={{'{PREMISE_NODE}': 'present', 'twitch_eyelid': 'present', 'sleep': 'short'}})",
    "equals twitchdx's infer({'twitch_eyelid': True, 'sleep': 'short'}).causes['als_mnd'].",
)


def _noisy_max_table(dists: list[np.ndarray], k: int, leak: np.ndarray | None, previous: int) -> np.ndarray:
    """P(node = s | previous node state, parents), shape (K, [K,] card_1, ..., card_r).

    `dists[i]` (card_i, K): parent i's contribution distribution in each of its states
    (a cause: absent contributes nothing, present its link). The node's state is the max
    of the previous node's state (if `previous`), the leak's and the parents'
    contributions.
    """
    r = len(dists)
    cards = tuple(len(d) for d in dists)
    grids = np.indices(cards).reshape(r, -1).T if r else np.zeros((1, 0), dtype=int)  # (configs, r)
    # P(max <= s | config) = prod over parents of their contribution's cdf at s
    below = np.ones((grids.shape[0], k))
    for i, d in enumerate(dists):
        cdf = np.cumsum(d, axis=1)
        cdf[:, -1] = 1.0
        below *= cdf[grids[:, i]]
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
    pmf = np.moveaxis(pmf, -1, 0)  # (K, [K_prev,] configs)
    return pmf.reshape((k,) + ((k,) if previous else ()) + cards)


def _chunks(items: list, size: int) -> list[list]:
    n = math.ceil(len(items) / size)
    bounds = np.linspace(0, len(items), n + 1).round().astype(int)
    return [items[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def switch_node(cause: str) -> str:
    """The name of `cause`'s switch node, "`cause` is making the person twitch"."""
    return SWITCH_PREFIX + cause


def sites_node(cause: str) -> str:
    """The name of `cause`'s site-pattern node: where its twitching is (given its switch)."""
    return SITES_PREFIX + cause


def weak_node(cause: str | None) -> str:
    """The name of a cause's weakness latent ("its weakness contribution is not none"),
    or the leak's (cause None)."""
    return WEAK_PREFIX + (cause if cause is not None else "leak")


def site_states(net) -> tuple[str, ...]:
    """The states of a site-pattern node: none (switch off), spread, only_<region>."""
    return ("none", "spread") + tuple(f"only_{r}" for r in net.regions)


def region_set_states(net) -> tuple[str, ...]:
    """The states of a `_regions_<k>` node: the set of regions twitching so far, as
    `b` and one digit a region in `net.regions` order (b000000: none; b000110: arm, leg)."""
    n = len(net.regions)
    return tuple("b" + "".join(str((s >> r) & 1) for r in range(n)) for s in range(2**n))


def _region_chain(net, cpd) -> bool:
    """The twitch regions through one chain `_regions_1` ... `_regions_<n>`: node k holds
    the set of regions twitching from the leak and the first k causes that reach a
    region (each node's parents: the previous node and the cause's site pattern, or its
    switch if it has none), and `twitch_<region>` is its region's digit in the last
    node. Summing the chain out gives each region's noisy-OR exactly. One chain over all
    regions (2^regions states) instead of a chain a region: every region reads every
    site pattern, and six chains over the same 8-state nodes left pgmpy's and pyAgrum's
    elimination heuristics orders with factors of many GiB. Returns False (nothing
    written) where a table would pass MAX_TABLE or a region is not binary: then each
    region is a finding of its own."""
    regions = list(net.regions)
    n_r = len(regions)
    if not n_r or any(len(net.states[r]) != 2 for r in regions):
        return False
    size = 2**n_r
    bits = (np.arange(size)[:, None] >> np.arange(n_r)[None]) & 1  # (sets, regions)
    sources = []  # (parent, P(region fires | parent state), shape (states, regions))
    for i, c in enumerate(net.causes):
        link = np.array([float(net.link[r][i, 1]) for r in regions])
        if c in net.spread:
            sp, focal = float(net.spread[c]), np.asarray(net.focal[c], dtype=float)
            p = np.vstack([np.zeros(n_r), link, np.eye(n_r)])
            weight = np.concatenate([[0.0, sp], (1.0 - sp) * focal])  # a state never reached adds nothing
            if (p[weight > 0] > 0).any():
                sources.append((sites_node(c), p))
        elif (link > 0).any():
            sources.append((switch_node(c), np.vstack([np.zeros(n_r), link])))
    if not sources or max(size * size * len(p) for _, p in sources) > MAX_TABLE:
        return False

    def fired(p):  # P(exactly this set fires | parent state), (sets, states)
        return np.prod(np.where(bits[:, None, :] == 1, p[None], 1.0 - p[None]), axis=2)

    new = np.arange(size)[:, None] | np.arange(size)[None]  # new[old, fired] = old | fired
    leak = fired(np.array([[float(net.leak[r][1]) for r in regions]]))[:, 0]
    states = region_set_states(net)
    previous = None
    for k, (parent, p) in enumerate(sources):
        f = fired(p)
        table = np.zeros((size, size, len(p)))  # (new, old, parent state)
        for old in range(size):
            np.add.at(table, (new[old], old), f)
        node = f"{REGIONS_PREFIX}{k + 1}"
        if previous is None:  # the leak is the state before the first cause
            cpd(node, states, np.einsum("nov,o->nv", table, leak), [parent])
        else:
            cpd(node, states, table, [previous, parent])
        previous = node
    for r, region in enumerate(regions):
        cpd(region, net.states[region], np.vstack([1 - bits[:, r], bits[:, r]]).astype(float), [previous])
    return True


def to_pgmpy(net):
    """Build the pgmpy network. Binary nodes have states `absent`, `present`.

    It also holds the causes' latents (the module docstring): a switch
    `_twitching_<cause>` per cause, a site pattern `_sites_<cause>` under it (the
    regions' parents), the weakness latents `_weak_<cause>` and `_weak_leak` (read by
    `weakness` and its patterns); and `_any_twitch`, present exactly when some region
    twitches: observe it `present` to ask pgmpy the question `infer()` answers (the
    premise: docs/model.md).
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
        # regions' parents are always switches or site patterns
        tau = float(net.twitch[c])
        cpd(switch_node(c), ("absent", "present"), [[1.0, 1.0 - tau], [0.0, tau]], [c])
        if c in net.spread:
            sp, focal = float(net.spread[c]), np.asarray(net.focal[c], dtype=float)
            on = np.concatenate([[0.0, sp], (1.0 - sp) * focal])
            off = np.eye(len(on))[0]
            cpd(sites_node(c), site_states(net), np.column_stack([off, on]), [switch_node(c)])
    weak_on = {}
    if net.weak_finding is not None:
        rows = np.vstack([net.link[net.weak_finding], net.leak[net.weak_finding][None]])
        for i, c in enumerate(list(net.causes) + [None]):
            on = float(rows[i, 1:].sum())
            if on > 0:
                weak_on[c] = on
                if c is None:
                    cpd(weak_node(None), ("absent", "present"), [[1.0 - on], [on]], [])
                else:
                    cpd(weak_node(c), ("absent", "present"), [[1.0, 1.0 - on], [0.0, on]], [c])
    joint_regions = _region_chain(net, cpd)
    blocks = _chunks(list(range(len(net.causes))), CHUNK_CAUSES)
    singles = [[i] for i in range(len(net.causes))]
    for f in net.findings:
        if joint_regions and f in net.regions:
            continue  # written by _region_chain
        link, leak, states = net.link[f], net.leak[f], net.states[f]
        k = len(states)
        none = np.eye(k)[0]
        reads_weak = f == net.weak_finding or f in net.weak_patterns

        def given_weak(row, on):
            # the weakness finding given its latent on: P(state | not none)
            return np.concatenate([[0.0], row[1:] / on]) if f == net.weak_finding else row

        sources, dists, owner = [], [], []  # owner: the cause's index (-1: the leak's latent)
        for i, c in enumerate(net.causes):
            # a region also hears a cause whose spread link is 0 but whose focal pattern
            # can fall on it
            focal_here = f in net.regions and c in net.spread and float(net.spread[c]) < 1.0 \
                and float(net.focal[c][net.regions.index(f)]) > 0.0
            if (link[i, 0] >= 1.0 and not focal_here) or (reads_weak and c not in weak_on):
                continue
            owner.append(i)
            if f in net.regions and c in net.spread:
                r = net.regions.index(f)
                only = [np.eye(k)[k - 1] if j == r else none for j in range(len(net.regions))]
                sources.append(sites_node(c))
                dists.append(np.vstack([none, link[i]] + only))
            elif f in net.regions:
                sources.append(switch_node(c))
                dists.append(np.vstack([none, link[i]]))
            elif reads_weak:
                sources.append(weak_node(c))
                dists.append(np.vstack([none, given_weak(link[i], weak_on[c])]))
            else:
                sources.append(c)
                dists.append(np.vstack([none, link[i]]))
        if reads_weak:
            # the leak acts through its own weakness latent: a parent, not a leak
            if None in weak_on and leak[0] < 1.0:
                sources.insert(0, weak_node(None))
                dists.insert(0, np.vstack([none, given_weak(leak, weak_on[None])]))
                owner.insert(0, -1)
            leak = none
        size = k * math.prod(len(d) for d in dists)  # Python ints: 8^25 overflows int64
        if size <= MAX_TABLE:
            cpd(f, states, _noisy_max_table(dists, k, leak, 0), sources)
            continue
        previous = None
        # every split finding is split at the same causes (the blocks of all causes, each
        # finding's linked ones in them): pgmpy's elimination heuristics then find a cheap
        # order, where chains split at different causes per finding made queries ~10x slower.
        # Where a parent has more than two states (a site pattern, when the regions are not
        # one chain: see _region_chain) one cause a node: small tables
        use = blocks if max(len(d) for d in dists) == 2 else singles
        chunks = [[j for j, pos in enumerate(owner) if pos in block or (pos == -1 and block is use[0])]
                  for block in use]
        chunks = [chunk for chunk in chunks if chunk]
        for j, chunk in enumerate(chunks):
            node = f if j == len(chunks) - 1 else f"_{f}_{j + 1}"
            parents = ([previous] if previous else []) + [sources[i] for i in chunk]
            table = _noisy_max_table([dists[i] for i in chunk], k, leak if j == 0 else None, 1 if previous else 0)
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
