"""Fit the site patterns of priors/sites.toml to their targets (docs/model.md, issue 23).

Given that a cause makes the person twitch (its switch is on), its twitching is
- focal, with probability 1 - w: exactly one region, region r with share s_r (sum 1), or
- spread, with probability w: each region r independently with probability q_r.
So P(r | switch on) = (1 - w) s_r + w q_r, P(two or more regions | switch on) =
w * P(>= 2 | independent q), P(no region | switch on) = w * prod_r (1 - q_r).

For each cause the script reads `target` (the six site marginals and `two_or_more`) from
priors/sites.toml and fits (w, s, q) through one profile p per cause (a number in (0, 1)
per region): the focal pattern picks region r in proportion to p_r, s_r = p_r / sum p, and
the spread pattern fires region r as if p_r were tried k times, q_r = 1 - (1 - p_r)^k with
k >= 1, so both patterns have the cause's own shape and the spread one is more intense.
The profile, w and k are fitted by least squares (scipy, a fixed start: deterministic) to
the six marginals and P(two or more regions), with P(no region) above 0.01 penalised.
A region whose target is 0 takes no share and no spread probability. A cause whose
`two_or_more` is 0 is focal only (w = 0, s = t / sum t).

Usage:
  python tools/fit_site_patterns.py            # print the fit and the achieved figures
  python tools/fit_site_patterns.py --write    # also rewrite the parameters into the file
  python tools/fit_site_patterns.py --scale    # per cause, the common factor on the site
                                               # targets nearest 1 with which the shares sum
                                               # to at most 1 + 2 x two_or_more and every
                                               # figure comes within 0.02 with P(no region)
                                               # at most 0.02 (the scale rule of docs/model.md;
                                               # 1.0 for targets already scaled)
The figures printed are those of the rounded parameters the file holds (or would hold).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tomllib
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares

REGIONS = ("eyelid", "face", "tongue", "arm", "leg", "trunk")
FILE = Path(__file__).resolve().parent.parent / "priors" / "sites.toml"
K_MAX = 60.0
SPREAD_REGIONS = 3  # the most regions a spread presentation involves on average (the scale rule)
AIM = 0.02  # the fit's aim; docs/model.md allows 0.05
DIGITS = 3

NONE_SOFT = 0.01  # P(no region | switch on) above this is penalised in the fit
NONE_AIM = 0.02  # and the scale search asks for at most this
W_NONE = 3.0  # its weight against the seven figures' (1)

SUBSETS = np.array(list(itertools.product((0, 1), repeat=len(REGIONS))), dtype=float)  # 64 x 6


def figures(w: float, s: dict[str, float], q: dict[str, float]) -> dict[str, float]:
    """Marginals, P(>= 2), P(none) and P(eyelid or face), given the switch on, by enumerating the
    64 region subsets; also the figures conditional on at least one region."""
    sv = np.array([s.get(r, 0.0) for r in REGIONS])
    qv = np.array([q.get(r, 0.0) for r in REGIONS])
    size = SUBSETS.sum(axis=1)
    spread = np.prod(np.where(SUBSETS == 1, qv, 1 - qv), axis=1)
    focal = np.where(size == 1, SUBSETS @ sv, 0.0)
    p = (1 - w) * focal + w * spread
    out = {r: float(p @ SUBSETS[:, i]) for i, r in enumerate(REGIONS)}
    out["two_or_more"] = float(p[size >= 2].sum())
    out["none"] = float(p[size == 0].sum())
    out["eye_or_face"] = float(p[(SUBSETS[:, 0] + SUBSETS[:, 1]) >= 1].sum())
    out["total"] = float(p.sum())
    one = 1 - out["none"]
    for k in (*REGIONS, "two_or_more"):
        out[f"{k}|any"] = out[k] / one
    return out


def _analytic(w, s, q):
    """Marginals, P(>= 2), P(none) of the active regions (vectors), in closed form."""
    m = (1 - w) * s + w * q
    none_q = np.prod(1 - q)
    one_q = sum(q[i] * np.prod(np.delete(1 - q, i)) for i in range(len(q)))
    return m, w * (1 - none_q - one_q), w * none_q


def fit(target: dict[str, float]) -> tuple[float, dict[str, float], dict[str, float]]:
    """(w, focal shares, spread probabilities) for one cause's targets, unrounded.

    One profile p (a number in (0, 1) per region) shapes both patterns: the focal pattern
    picks a region in proportion to it, s_r = p_r / sum p, and the spread pattern fires a
    region as if p_r were tried k times, q_r = 1 - (1 - p_r)^k (k >= 1). The profile, w and
    k are fitted by least squares to the six marginals and P(two or more regions), with
    P(no region) above NONE_SOFT penalised."""
    active = [r for r in REGIONS if target[r] > 0]
    t = np.array([target[r] for r in active])
    two = target["two_or_more"]
    if two == 0 or len(active) == 1:
        return 0.0, {r: target[r] / t.sum() for r in active}, {}
    n = len(active)

    def unpack(x):
        w, p, k = x[0], x[1 : 1 + n], x[-1]
        return w, p / p.sum(), 1 - (1 - p) ** k

    def residuals(x):
        w, s, q = unpack(x)
        m, p2, p0 = _analytic(w, s, q)
        return np.concatenate([m - t, [p2 - two], [W_NONE * max(0.0, p0 - NONE_SOFT)]])

    x0 = np.concatenate([[min(0.9, 1.3 * two)], t, [3.0]])
    lo = np.concatenate([[0.0], np.full(n, 1e-4), [1.0]])
    hi = np.concatenate([[1.0], np.full(n, 0.999), [K_MAX]])
    res = least_squares(residuals, x0, bounds=(lo, hi), xtol=1e-12, ftol=1e-12, gtol=1e-12, max_nfev=20000)
    w, s, q = unpack(res.x)
    return float(w), dict(zip(active, map(float, s))), dict(zip(active, map(float, q)))


def rounded(w, s, q):
    """The parameters as the file holds them: DIGITS decimals, shares summing to 1 exactly
    (the largest share takes the rounding remainder)."""
    w = round(w, DIGITS)
    s = {r: round(v, DIGITS) for r, v in s.items()}
    s = {r: v for r, v in s.items() if v > 0}
    top = max(s, key=s.get)
    s[top] = round(1 - sum(v for r, v in s.items() if r != top), DIGITS)
    q = {r: round(v, DIGITS) for r, v in q.items()} if w > 0 else {}
    q = {r: v for r, v in q.items() if v > 0}
    return w, s, q


def worst_error(target, fig) -> float:
    keys = (*REGIONS, "two_or_more")
    plain = max(abs(fig[k] - target[k]) for k in keys)
    conditional = max(abs(fig[f"{k}|any"] - target[k]) for k in keys)
    return max(plain, conditional)


def fit_rounded(target):
    w, s, q = rounded(*fit(target))
    return w, s, q, figures(w, s, q)


def meets_aim(target, fig) -> bool:
    return worst_error(target, fig) <= AIM and fig["none"] <= NONE_AIM


def within_spread_cap(target) -> bool:
    """The site shares sum to at most 1 + (SPREAD_REGIONS - 1) x two_or_more: a presentation in
    two or more regions involves on average at most SPREAD_REGIONS of the six."""
    return sum(target[r] for r in REGIONS) <= 1 + (SPREAD_REGIONS - 1) * target["two_or_more"] + 1e-9


def suggest_scale(target) -> float:
    """The common factor on the six site targets, nearest 1 in steps of 0.01 (the larger
    of two at the same distance), with which every figure is within AIM and
    P(no region) at most NONE_AIM, and the shares within the spread cap (two_or_more kept). A focal-only cause (two_or_more 0)
    takes 1 / sum of its shares."""
    total = sum(target[r] for r in REGIONS)
    if target["two_or_more"] == 0:
        return round(1 / total, 4)
    for step in range(0, 100):
        for c in sorted({round(1 + step / 100, 2), round(1 - step / 100, 2)}, reverse=True):
            scaled = dict(target, **{r: round(target[r] * c, DIGITS) for r in REGIONS})
            if within_spread_cap(scaled) and meets_aim(scaled, fit_rounded(scaled)[3]):
                return c
    return float("nan")


def load(path: Path = FILE) -> dict:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _str(v) -> str:
    return json.dumps(v, ensure_ascii=False)


def _num(v: float) -> str:
    return repr(float(v)) if v not in (0, 1) else ("0.0" if v == 0 else "1.0")


def _range(v: float) -> tuple[float, float]:
    return round(v / 2, DIGITS + 1), round(min(1.0, 2 * v), DIGITS + 1)


def block(cause: str, entry: dict, w: float, s: dict, q: dict, fig: dict) -> str:
    t = entry["target"]
    parts = [f"{r} = {_num(t[r])}" for r in REGIONS] + [f"two_or_more = {_num(t['two_or_more'])}"]
    parts.append(f"source = {_str(t['source'])}")
    if "note" in t:
        parts.append(f"note = {_str(t['note'])}")
    lo, hi = _range(w)
    if w > 0:
        note = "P(spread pattern | cause, twitching), fitted to the targets (tools/fit_site_patterns.py)"
    else:
        note = "P(spread pattern | cause, twitching): 0, the cause is focal only (two_or_more 0)"
    lines = [
        f"[{cause}]",
        "target = { " + ", ".join(parts) + " }",
        f"spread = {{ value = {_num(w)}, low = {_num(lo)}, high = {_num(hi)}, source = \"estimate\", note = {_str(note)} }}",
        f"[{cause}.focal]",
    ]
    lines += [f"{r} = {{ value = {_num(s[r])}, source = \"estimate\" }}" for r in REGIONS if r in s]
    lines.append(f"[{cause}.spread_sites]")
    lines += [f"{r} = {{ value = {_num(q[r])}, source = \"estimate\" }}" for r in REGIONS if r in q]
    achieved = ", ".join(f"{r} {fig[r]:.3f}" for r in REGIONS)
    lines.append(
        f"# achieved: {achieved}; two or more {fig['two_or_more']:.3f}; none {fig['none']:.4f};"
        f" eyelid or face {fig['eye_or_face']:.3f}"
    )
    return "\n".join(lines) + "\n"


def write(path: Path, data: dict, results: dict) -> None:
    text = path.read_text(encoding="utf-8")
    header = []
    for line in text.splitlines():
        if line.startswith("["):
            break
        header.append(line)
    body = "\n".join(block(c, data[c], *results[c]) for c in data)
    path.write_text("\n".join(header).rstrip("\n") + "\n\n" + body, encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", type=Path, default=FILE)
    ap.add_argument("--write", action="store_true", help="rewrite the fitted parameters into the file")
    ap.add_argument("--scale", action="store_true", help="print the scale factor each cause's site targets need")
    args = ap.parse_args(argv)
    data = load(args.file)
    results, worst = {}, 0.0
    head = f"{'cause':32s} {'w':>6s} " + " ".join(f"{r[:6]:>13s}" for r in (*REGIONS, "two_or_more")) + f" {'none':>7s} {'e|f':>6s} {'err':>6s}"
    print(head)
    for cause, entry in data.items():
        t = entry["target"]
        w, s, q, fig = fit_rounded(t)
        results[cause] = (w, s, q, fig)
        err = worst_error(t, fig)
        worst = max(worst, err)
        cells = " ".join(f"{t[k]:5.3f}->{fig[k]:5.3f}" for k in (*REGIONS, "two_or_more"))
        print(f"{cause:32s} {w:6.3f} {cells} {fig['none']:7.4f} {fig['eye_or_face']:6.3f} {err:6.3f}")
        print(f"{'':32s} focal  " + " ".join(f"{r}={v:.3f}" for r, v in s.items()))
        if q:
            print(f"{'':32s} spread " + " ".join(f"{r}={v:.3f}" for r, v in q.items()))
        if args.scale:
            print(f"{'':32s} scale for the site targets: {suggest_scale(t)}")
    print(f"worst error (plain or given at least one region): {worst:.4f}")
    if args.write:
        write(args.file, data, results)
        print(f"wrote {args.file}")
    return 0 if worst <= 0.05 else 1


if __name__ == "__main__":
    sys.exit(main())
