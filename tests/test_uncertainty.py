"""Intervals over redrawn priors and exact one-way sensitivity (model.uncertainty)."""

import numpy as np
import pandas as pd
import pytest

from model import infer, load_network
from model.presentation.plots import plot_tornado
from model.uncertainty import draws as U
from model.uncertainty import oneway as SA
from model.inference.engine import network_tables
from model.inference.analysis import analyse
from model.network.build import compile_network
from model.network.draws import marginal_prior, priors_with_values, redraw_priors, redraw_values
from model.inference import levels as L
from model.network import rules as T

# Exposures observed (docs/validation.md) keep the exposure grid small and the tests fast.
CASE = {
    "location": "eyelid", "duration": "under_1_week", "sleep": "short", "caffeine": "high",
    "age": 30, "sex": "female", "diet": "balanced", "stress": "high", "weakness": "none",
}
SERIOUS = {"location": ["arm", "leg"], "duration": 120, "weakness": "mild", "age": 65, "sex": "male", "diet": "balanced", "cramps": True}
EXACT = 1e-9


@pytest.fixture(scope="module")
def net():
    return load_network()


def _collapsed(net):
    return compile_network(U.scale_ranges(net.priors, 0.0))


def test_collapsed_ranges_give_the_point_answer(net, rng):
    point_net = _collapsed(net)
    r = infer(CASE, network=point_net, intervals=20, rng=rng)
    for col in r.intervals.columns:
        np.testing.assert_allclose(r.intervals.loc[r.causes.index, col], r.causes, atol=EXACT, rtol=0)
        assert abs(r.intervals.loc["urgency", col] - r.urgency) < EXACT
    assert list(r.intervals.columns) == ["5%", "50%", "95%"]
    assert list(r.intervals.index) == list(r.causes.index) + ["urgency"]


def test_point_answer_unchanged_by_intervals(net, rng):
    plain = infer(CASE, network=net)
    r = infer(CASE, network=net, intervals=10, rng=rng)
    pd.testing.assert_series_equal(r.causes, plain.causes)
    assert r.urgency == plain.urgency and r.advice == plain.advice


@pytest.mark.parametrize("case", [CASE, SERIOUS])
def test_wide_band_holds_the_point_answer(net, case):
    wide = compile_network(U.scale_ranges(net.priors, 2.0))
    r = infer(case, network=wide, intervals=200, rng=np.random.default_rng(5))
    band = r.intervals
    for name, p in list(r.causes.head(5).items()) + [("urgency", r.urgency)]:
        assert band.loc[name, "5%"] <= p <= band.loc[name, "95%"], name
        assert band.loc[name, "95%"] - band.loc[name, "5%"] > 0, name


# the last case leaves every exposure unknown: each draw sums them over its own shares
@pytest.mark.parametrize("case", [CASE, SERIOUS, {"location": "trunk", "age": 50, "sex": "male", "diet": "poor"},
                                  {"location": "arm", "weakness": "mild"}])
def test_each_draw_is_the_engine_answer_on_that_drawn_network(net, case):
    evidence = net.encode(case)
    stack, values = U.draw_stack(net, 12, np.random.default_rng(11))
    draws = U.stacked_answers(stack, evidence)
    for i in (0, 5, 11):
        drawn = compile_network(priors_with_values(net.priors, values, i))
        for c in net.causes:  # the stack's compilation is compile_network's
            np.testing.assert_allclose(stack.cause_table[c][i], drawn.cause_table[c], rtol=1e-12, atol=0)
        r = infer(case, network=drawn)
        np.testing.assert_allclose(draws.causes[i], r.causes[list(net.causes)], atol=EXACT, rtol=0)
        np.testing.assert_allclose(draws.triage[i], r.triage, atol=EXACT, rtol=0)
        assert abs(draws.urgency[i] - r.urgency) < EXACT


def test_intervals_are_the_quantiles_of_the_draws(net):
    r = infer(CASE, network=net, intervals=50, rng=np.random.default_rng(3))
    draws = U.interval_draws(net, r.evidence, 50, np.random.default_rng(3))
    for q, col in zip(U.INTERVAL_QUANTILES, r.intervals.columns):
        np.testing.assert_allclose(r.intervals[col], draws.quantile(q)[r.intervals.index], atol=0, rtol=0)


def test_sized_draw_and_redraw_priors_share_one_matching(net):
    """redraw_priors is redraw_values with one draw: the same numbers from the same stream."""
    one = redraw_priors(net.priors, np.random.default_rng(2))
    values = redraw_values(net.priors, np.random.default_rng(2))
    again = priors_with_values(net.priors, values)
    assert one.causes["als_mnd"].prior == again.causes["als_mnd"].prior
    assert one.findings["weakness"].links["als_mnd"] == again.findings["weakness"].links["als_mnd"]


def test_interval_inputs_are_checked(net, rng):
    with pytest.raises(ValueError, match=r"^rng: expected a numpy.random.Generator \(for example numpy.random.default_rng\(0\)\), got None$"):
        infer(CASE, network=net, intervals=10)
    with pytest.raises(ValueError, match=r"^n: expected a whole number of draws >= 1, got 0$"):
        infer(CASE, network=net, intervals=0, rng=rng)
    with pytest.raises(ValueError, match=r"^intervals: only for a single case"):
        infer([CASE], network=net, intervals=10, rng=rng)
    with pytest.raises(ValueError, match=r"^factor: expected a finite number >= 0, got -1$"):
        U.scale_ranges(net.priors, -1)


def _pick(net):
    """One parameter of each kind and shape."""
    by = {p.name: p for p in SA.parameters(net)}
    names = [
        "prior:stress_anxiety", "prior:als_mnd",
        "link:cramps|benign_fasciculation_syndrome",  # binary noisy-OR link
        "twitch:stress_anxiety", "twitch:als_mnd",  # P(twitching | cause): the switch
        "link:twitch_eyelid|stress_anxiety",  # a region's link: P(site | cause, twitching)
        "link:weakness|als_mnd=marked", "link:duration|stress_anxiety=over_3_months",  # noisy-MAX rows
        "leak:numbness", "leak:weakness=mild",
        "exposure:alcohol_intake=heavy", "exposure:caffeine=moderate",
    ]
    missing = [n for n in names if n not in by]
    assert not missing, missing
    return [by[n] for n in names]


@pytest.mark.parametrize("case", [CASE, SERIOUS])
def test_one_way_curve_is_exact(net, case):
    evidence = net.encode(case)
    for p in _pick(net):
        curve = SA.one_way(net, evidence, p)
        thetas = np.linspace(p.low, p.high, 5)[[0, 1, 3, 4]].tolist() + [p.value]
        got = curve.at(thetas)
        for theta, (_, row) in zip(thetas, got.iterrows()):
            direct = analyse(with_net := SA.with_parameter(net, p, theta), evidence)
            np.testing.assert_allclose(row[list(net.causes)].to_numpy(float), direct.causes, atol=EXACT, rtol=0, err_msg=p.name)
            assert abs(row["urgency"] - direct.triage[2:].sum()) < EXACT, p.name
            assert row["advice"] == T.LEVELS[L.advise(with_net, direct.triage)]


def test_with_parameter_sets_the_parameter(net):
    base_table = net.cause_table["stress_anxiety"].copy()
    for p in _pick(net):
        theta = 0.5 * (p.low + p.high)
        moved = SA.with_parameter(net, p, theta)
        if p.kind == "prior":
            assert marginal_prior(moved, p.cause) == pytest.approx(theta, rel=1e-12)
        elif p.kind == "twitch":
            assert float(moved.twitch[p.cause]) == theta
        elif p.kind == "link":
            row = moved.link[p.node][net.causes.index(p.cause)]
            assert row[p.state] == theta and row.sum() == pytest.approx(1.0, abs=1e-12)
        elif p.kind == "leak":
            assert moved.leak[p.node][p.state] == theta
        else:
            assert moved.exposure_prob[p.node][p.state] == theta
    np.testing.assert_array_equal(net.cause_table["stress_anxiety"], base_table)  # not mutated
    moved = SA.with_parameter(net, "prior:stress_anxiety", marginal_prior(net, "stress_anxiety"))
    assert moved is not net and network_tables(moved) is not network_tables(net)


def _same_arrays(a, b, skip=()):
    """The network fields a and b hold the same numbers in (all but `skip`)."""
    for field in ("exposure_prob", "cause_table", "link", "leak", "twitch"):
        if field in skip:
            continue
        x, y = getattr(a, field), getattr(b, field)
        assert x.keys() == y.keys(), field
        for k in x:
            np.testing.assert_array_equal(x[k], y[k], err_msg=f"{field}[{k}]")


def test_twitch_parameter_is_p_twitching_given_the_cause_with_its_range(net):
    """Issue #18: P(twitching | cause) is a parameter of its own, `twitch:<cause>`, over
    its range in causes.toml; a region's link is P(site | cause, twitching) over its own
    range, no longer scaled by the twitch point. Issue 23 (docs/model.md): twitching follows a
    site pattern, so a region's link is P(site | cause, spread pattern) over its range in
    sites.toml (`spread_sites`), and P(spread pattern | cause, twitching) is a parameter
    `spread:<cause>` over sites.toml's range."""
    by = {p.name: p for p in SA.parameters(net)}
    assert "twitch" in U.KINDS
    for c in net.causes:
        number = net.priors.causes[c].twitch
        if number.high > number.low:
            p = by[f"twitch:{c}"]
            assert (p.kind, p.node, p.cause, p.value, p.low, p.high) == ("twitch", c, c, float(net.twitch[c]), number.low, number.high)
        else:  # a collapsed range is no parameter
            assert f"twitch:{c}" not in by
    i = net.causes.index("stress_anxiety")
    site = by["link:twitch_arm|stress_anxiety"]
    d = net.priors.sites["stress_anxiety"].spread_sites["arm"]
    assert (site.value, site.low, site.high) == (float(net.link["twitch_arm"][i, 1]), d.low, d.high)
    assert site.value == d.value  # P(site | cause, spread pattern), not times P(twitching | cause)
    spread = by["spread:stress_anxiety"]
    w = net.priors.sites["stress_anxiety"].spread
    assert (spread.kind, spread.value, spread.low, spread.high) == ("spread", float(net.spread["stress_anxiety"]), w.low, w.high)
    assert spread.value == w.value
    moved = SA.with_parameter(net, "twitch:stress_anxiety", 0.6)
    assert float(moved.twitch["stress_anxiety"]) == 0.6
    assert all(float(moved.twitch[c]) == float(net.twitch[c]) for c in net.causes if c != "stress_anxiety")
    _same_arrays(moved, net, skip=("twitch",))  # only the switch moves
    with pytest.raises(ValueError, match=r"^theta: 1.5 is not a probability for twitch:stress_anxiety$"):
        SA.with_parameter(net, "twitch:stress_anxiety", 1.5)


def test_each_draw_of_a_stack_carries_its_drawn_twitch(net):
    """A stack redrawn from the ranges holds P(twitching | cause) per draw, (D,), and
    draw i's network has the drawn value in `twitch` and the drawn P(site | cause,
    twitching) as its region links, as compile_network gives for draw i's priors."""
    stack, values = U.draw_stack(net, 6, np.random.default_rng(13))
    for c in net.causes:
        assert stack.twitch[c].shape == (6,)
        np.testing.assert_array_equal(stack.twitch[c], values[("twitch", c)])
    assert any(np.ptp(stack.twitch[c]) > 0 for c in net.causes)  # the twitch is redrawn
    for i in (0, 3, 5):
        one = stack.network(i)
        drawn = compile_network(priors_with_values(net.priors, values, i))
        for k, c in enumerate(net.causes):
            assert float(one.twitch[c]) == values[("twitch", c)][i] == float(drawn.twitch[c])
            for r in net.regions:
                if c in net.priors.findings[r].links:
                    np.testing.assert_array_equal(one.link[r][k], values[("link", r, c)][i])
        for f in net.findings:
            np.testing.assert_allclose(one.link[f], drawn.link[f], rtol=0, atol=1e-15)
        _same_arrays(U.stack_networks([one, drawn]).network(1), drawn)
    again = U.stack_networks([stack.network(i) for i in range(6)])
    for c in net.causes:
        np.testing.assert_array_equal(again.twitch[c], stack.twitch[c])


def test_loss_entries_move_only_the_expected_loss(net):
    evidence = net.encode(SERIOUS)
    a = analyse(net, evidence)
    p = next(x for x in SA.parameters(net) if x.name == "loss:soon->routine")
    got = SA.one_way(net, evidence, p).at([p.low, p.high])
    for theta, (_, row) in zip([p.low, p.high], got.iterrows()):
        loss = T.triage_of(net).loss.copy()
        loss[T.LEVELS.index("soon"), T.LEVELS.index("routine")] = theta
        assert row["expected_loss"] == pytest.approx((a.triage @ loss).min(), abs=EXACT)
        assert row["urgency"] == pytest.approx(a.triage[2:].sum(), abs=EXACT)


def test_sensitivity_table(net):
    r = infer(CASE, network=net)
    table = r.sensitivity("urgency", k=5)
    assert list(table.columns) == ["parameter", "kind", "value", "low", "high", "at_low", "at_high", "swing", "advice_low", "advice_high"]
    assert len(table) == 5 and table["swing"].is_monotonic_decreasing
    assert table.attrs["target"] == "urgency" and table.attrs["point"] == pytest.approx(r.urgency, abs=EXACT)
    assert (table["low"] <= table["value"]).all() and (table["value"] <= table["high"]).all()
    top = table.iloc[0]
    direct_low = analyse(SA.with_parameter(net, top["parameter"], top["low"]), r.evidence).triage[2:].sum()
    assert top["at_low"] == pytest.approx(direct_low, abs=EXACT)
    loss_table = SA.sensitivity(net, r.evidence, "expected_loss", k=3, kinds=("loss",))
    assert set(loss_table["kind"]) == {"loss"} and loss_table["swing"].iloc[0] > 0
    assert loss_table["parameter"].iloc[0].endswith("->" + r.advice)  # only the advised column moves it


def test_sensitivity_errors(net):
    r = infer(CASE, network=net)
    with pytest.raises(ValueError, match=r"^target: 'urgncy' is not a cause, 'urgency' or 'expected_loss'; did you mean 'urgency'\?; allowed: stress_anxiety, "):
        r.sensitivity("urgncy")
    with pytest.raises(ValueError, match=r"^k: expected a whole number >= 1, got 0$"):
        r.sensitivity("urgency", k=0)
    with pytest.raises(ValueError, match=r"^parameter: 'prior:stres_anxiety' is not a parameter with a range; did you mean 'prior:stress_anxiety'\?$"):
        SA.one_way(net, r.evidence, "prior:stres_anxiety")


def test_plots(net, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = infer(CASE, network=net, intervals=20, rng=np.random.default_rng(0))
    ax = r.plot().axes[0]
    assert len(ax.get_yticklabels()) == 10
    ax = plot_tornado(r.sensitivity("eyelid_myokymia", k=4)).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()][0] == r.sensitivity("eyelid_myokymia", k=1)["parameter"][0]
    plt.close("all")


def test_cli_intervals():
    import io
    import json

    from model.cli.main import main

    out = io.StringIO()
    assert main(["infer", "--location", "eyelid", "--age", "30", "--sex", "female", "--diet", "balanced", "--intervals", "20", "--seed", "3", "--json"], stdout=out) == 0
    doc = json.loads(out.getvalue())
    band = doc["intervals"]["urgency"]
    assert band["5%"] <= band["50%"] <= band["95%"]
    out = io.StringIO()
    assert main(["infer", "--location", "eyelid", "--age", "30", "--sex", "female", "--diet", "balanced", "--intervals", "20"], stdout=out) == 0
    assert "[5% - 95%] over 20 networks redrawn from the ranges in priors/" in out.getvalue()
