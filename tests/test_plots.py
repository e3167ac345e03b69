"""Figures: each function returns a Figure that shows what its input says."""

import subprocess
import sys
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.container import BarContainer, ErrorbarContainer  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from model import infer, load_network, validation  # noqa: E402
from model.presentation import plots  # noqa: E402
from model.validation import plots as validation_plots  # noqa: E402
from model.network.vocabulary import TRIAGE_LEVELS  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def eyelid():
    return infer({"location": "eyelid"}, network=load_network())


def bars(ax):
    return [c for c in ax.containers if isinstance(c, BarContainer)]


def test_import_model_does_not_import_matplotlib():
    code = "import sys, model, model.presentation.plots; assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- plot_result ----------------------------------------------------------------------


def test_result_bars_are_the_top_posteriors_in_order_coloured_by_level(eyelid):
    top = 6
    fig = plots.plot_result(eyelid, top=top)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    (container,) = bars(ax)
    expected = eyelid.causes.head(top)
    np.testing.assert_allclose([r.get_width() for r in container], expected.to_numpy(), rtol=0, atol=1e-12)
    # the bar at y=k is the k-th cause, and the axis is inverted so k=0 is on top
    labels = {t.get_position()[1]: t.get_text() for t in ax.get_yticklabels()}
    assert [labels[r.get_y() + r.get_height() / 2] for r in container] == list(expected.index)
    assert ax.yaxis_inverted()
    assert ax.get_xlim() == (0.0, 1.0)
    levels = [TRIAGE_LEVELS[eyelid.network.cause_level[c]] for c in expected.index]
    for rect, level in zip(container, levels):
        assert matplotlib.colors.same_color(rect.get_facecolor(), plots.LEVEL_COLOURS[level])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [lv for lv in TRIAGE_LEVELS if lv in levels]
    assert eyelid.advice in ax.get_title() and f"{eyelid.urgency:.1%}" in ax.get_title()
    assert not [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


def test_result_plot_method_draws_ten_bars_into_a_given_axes(eyelid):
    fig, ax = plt.subplots()
    assert eyelid.plot(ax=ax) is fig
    (container,) = bars(ax)
    assert len(container) == 10
    np.testing.assert_allclose([r.get_width() for r in container], eyelid.causes.head(10).to_numpy(), atol=1e-12)
    assert isinstance(infer({"location": "eyelid"}).plot(), Figure)


def _intervals(result, rng, k=4):
    causes = result.causes.head(k)
    p50 = causes.to_numpy()
    lo = p50 * rng.uniform(0.5, 0.9, size=k)
    hi = np.minimum(1.0, p50 + (1 - p50) * rng.uniform(0.05, 0.3, size=k))
    frame = pd.DataFrame({"p05": lo, "p50": p50, "p95": hi}, index=causes.index)
    frame.loc["urgency"] = [0.01, 0.02, 0.04]
    return frame


def _error_segments(ax):
    (eb,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    _, _, (lines,) = eb.lines
    return np.array([[seg[0][0], seg[1][0], seg[0][1]] for seg in lines.get_segments()])


def test_intervals_draw_error_bars_from_p05_to_p95(eyelid):
    rng = np.random.default_rng(3)
    frame = _intervals(eyelid, rng)
    fig = plots.plot_result(eyelid, top=8, intervals=frame)
    ax = fig.axes[0]
    seg = _error_segments(ax)
    covered = frame.drop(index="urgency")
    # one bar per covered cause, at that cause's row, from p05 to p95
    np.testing.assert_allclose(seg[:, 0], covered["p05"], atol=1e-12)
    np.testing.assert_allclose(seg[:, 1], covered["p95"], atol=1e-12)
    np.testing.assert_array_equal(seg[:, 2], np.arange(len(covered)))
    assert "1.0% to 4.0%" in ax.get_title()
    assert "p05 to p95 (dot: p50)" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_result_intervals_attribute_is_the_default(eyelid):
    frame = _intervals(eyelid, np.random.default_rng(5), k=3)
    carrier = SimpleNamespace(**{k: getattr(eyelid, k) for k in ("causes", "network", "advice", "urgency")}, intervals=frame)
    seg = _error_segments(plots.plot_result(carrier, top=5).axes[0])
    np.testing.assert_allclose(seg[:, :2], frame.drop(index="urgency")[["p05", "p95"]].to_numpy(), atol=1e-12)


def test_intervals_without_the_columns_are_refused(eyelid):
    with pytest.raises(ValueError, match="p95"):
        plots.plot_result(eyelid, intervals=pd.DataFrame({"p05": [0.1], "p50": [0.2]}, index=["alcohol"]))
    crossed = pd.DataFrame({"p05": [0.1, 0.3], "p50": [0.2, 0.2], "p95": [0.3, 0.4]}, index=["stress_anxiety", "alcohol"])
    with pytest.raises(ValueError, match="does not hold for alcohol"):
        plots.plot_result(eyelid, intervals=crossed)


# -- plot_reliability -----------------------------------------------------------------


def _calibration_sets(rng):
    p = rng.uniform(0, 1, size=3000)
    calibrated = (rng.uniform(size=p.size) < p).astype(float)
    overconfident = (rng.uniform(size=p.size) < 0.5 + 0.5 * (p - 0.5)).astype(float)
    return {"calibrated": (calibrated, p), "overconfident": (overconfident, p)}


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_reliability_points_and_counts_are_the_validation_bins(strategy):
    curves = _calibration_sets(np.random.default_rng(11))
    fig = validation_plots.plot_reliability(curves, title="urgency", strategy=strategy, panels=False)
    main, hist = fig.axes
    assert main.get_title() == "urgency"
    lines = {line.get_label(): line for line in main.get_lines()}
    assert "perfect calibration" in lines
    for k, (label, (y, p)) in enumerate(curves.items()):
        mean_p, freq, count = validation.reliability(y, p, strategy=strategy)
        key = f"{label} (ECE {validation.ece(y, p, strategy=strategy):.3f})"
        np.testing.assert_allclose(lines[key].get_xdata(), mean_p, atol=1e-12)
        np.testing.assert_allclose(lines[key].get_ydata(), freq, atol=1e-12)
        np.testing.assert_array_equal([r.get_height() for r in bars(hist)[k]], count)
    assert [t.get_text() for t in main.get_legend().get_texts()][1:] == [
        f"{label} (ECE {validation.ece(y, p, strategy=strategy):.3f})" for label, (y, p) in curves.items()
    ] + ["95% interval of each bin (exact binomial)"]


def test_reliability_default_is_fifteen_equal_count_bins_and_draws_into_a_given_axes():
    rng = np.random.default_rng(12)
    p = rng.uniform(0, 1, size=2000)
    y = (rng.uniform(size=p.size) < p).astype(float)
    fig, ax = plt.subplots()
    assert validation_plots.plot_reliability({"urgency": (y, p)}, ax=ax) is fig
    (line,) = [line for line in ax.get_lines() if line.get_label().startswith("urgency")]
    assert len(line.get_xdata()) == 15
    # the counts go on a twin axis of the given one, not on a new panel
    (twin,) = [a for a in fig.axes if a is not ax]
    assert twin.get_shared_x_axes().joined(ax, twin)
    heights = [r.get_height() for r in bars(twin)[0]]
    np.testing.assert_array_equal(heights, validation.reliability(y, p, strategy="quantile")[2])
    assert max(heights) - min(heights) <= 1  # equal counts
    fig.canvas.draw()
    fig2 = validation_plots.plot_reliability({"urgency": (y, p)}, counts=False)
    assert len(fig2.axes) == 1


def test_reliability_bins_are_as_many_as_the_cases_support_and_ties_never_leave_a_bin_short():
    rng = np.random.default_rng(14)
    p = rng.uniform(0, 1, size=200)
    y = (rng.uniform(size=p.size) < p).astype(float)
    fig = validation_plots.plot_reliability({"few": (y, p)}, counts=False)
    (line,) = [ln for ln in fig.axes[0].get_lines() if ln.get_label().startswith("few")]
    assert len(line.get_xdata()) == 200 // plots.MIN_BIN_CASES == validation.supported_bins(200, 15, plots.MIN_BIN_CASES)
    tied = np.r_[np.full(500, 0.01), rng.uniform(0, 1, size=40)]  # one value holds most cases
    _, _, count = validation.reliability(np.zeros_like(tied), tied, n_bins=15, strategy="quantile", min_count=30)
    assert count.min() >= 30 and count.sum() == tied.size
    with pytest.raises(ValueError, match=r"^min_count: 0 is not a positive whole number of cases$"):
        validation_plots.plot_reliability({"few": (y, p)}, min_count=0)


def test_reliability_band_is_each_bins_exact_interval_and_bars_carry_their_counts():
    rng = np.random.default_rng(13)
    p = rng.beta(0.5, 3.0, size=400)  # sparse high bins: a few cases each
    y = (rng.uniform(size=p.size) < p).astype(float)
    fig = validation_plots.plot_reliability({"urgency": (y, p)}, strategy="uniform", min_count=1)
    main, hist = fig.axes
    (band,) = [c for c in main.collections if c.get_gid() == "band:urgency"]
    mean_p, _, count = validation.reliability(y, p)
    lo, hi = validation.reliability_intervals(y, p)
    vertices = band.get_paths()[0].vertices
    for x, a, b in zip(mean_p, lo, hi):
        ys = vertices[np.isclose(vertices[:, 0], x), 1]
        assert ys.min() == pytest.approx(a, abs=1e-12) and ys.max() == pytest.approx(b, abs=1e-12)
    assert (hi - lo)[count < 10].min() > (hi - lo)[count > 100].max()  # few cases: a wide band
    assert [t.get_text() for t in hist.texts] == [str(int(c)) for c in count]
    for (a, b), n, k in zip(zip(lo, hi), count, np.rint(validation.reliability(y, p)[1] * count).astype(int)):
        assert (a, b) == validation.binomial_interval(k, n)


# -- plot_confusion -------------------------------------------------------------------


def test_confusion_annotations_are_the_counts_and_under_triage_is_marked():
    rng = np.random.default_rng(21)
    true = rng.choice(TRIAGE_LEVELS, size=400, p=[0.5, 0.3, 0.15, 0.05])
    advice = np.where(rng.uniform(size=true.size) < 0.7, true, rng.choice(TRIAGE_LEVELS, size=true.size))
    confusion = validation.triage_confusion(true, advice)
    fig = validation_plots.plot_confusion(confusion)
    ax = fig.axes[0]
    matrix = np.asarray(confusion["matrix"])
    n = len(TRIAGE_LEVELS)
    counts = {t.get_gid(): t.get_text() for t in ax.texts}
    for i in range(n):
        for j in range(n):
            assert counts[f"count-{i}-{j}"] == str(matrix[i, j])
            text = [t for t in ax.texts if t.get_gid() == f"count-{i}-{j}"][0]
            assert text.get_position() == (j, i)  # column = advice, row = true level
    marked = sorted(tuple(map(int, p.get_gid().split("-")[1:])) for p in ax.patches if (p.get_gid() or "").startswith("under-"))
    assert marked == [(i, j) for i in range(n) for j in range(n) if j < i]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(TRIAGE_LEVELS)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(TRIAGE_LEVELS)
    title = ax.get_title()
    assert f"under-triage {confusion['under_triage']:.1%}" in title
    assert f"over-triage {confusion['over_triage']:.1%}" in title


# -- plot_topk ------------------------------------------------------------------------


def test_topk_single_and_grouped_bars():
    one = {"top1": 0.62, "top3": 0.91, "cases": 900, "leak_only": 100}
    fig = validation_plots.plot_topk(one)
    top1, top3 = bars(fig.axes[0])
    assert [r.get_height() for r in top1] == [0.62] and [r.get_height() for r in top3] == [0.91]

    worlds = {"model": one, "perturbed": {"top1": 0.55, "top3": 0.85, "cases": 880, "leak_only": 120}}
    ax = validation_plots.plot_topk(worlds).axes[0]
    top1, top3 = bars(ax)
    assert [r.get_height() for r in top1] == [0.62, 0.55]
    assert [r.get_height() for r in top3] == [0.91, 0.85]
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == ["model", "perturbed"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["top-1", "top-3"]


def test_topk_from_validation_and_a_world_without_cases():
    rng = np.random.default_rng(31)
    post = rng.uniform(size=(50, 6))
    responsible = rng.uniform(size=(50, 6)) < 0.3
    primary = rng.integers(-1, 6, size=50)
    acc = validation.topk_accuracy(post, responsible, primary)
    empty = validation.topk_accuracy(post[:2], responsible[:2], np.array([-1, -1]))
    ax = validation_plots.plot_topk({"sampled": acc, "leak only": empty}).axes[0]
    top1, _ = bars(ax)
    assert top1[0].get_height() == pytest.approx(acc["top1"])
    assert "n/a" in [t.get_text() for t in ax.texts]


# -- plot_tornado ---------------------------------------------------------------------


def test_tornado_sorted_by_swing_largest_on_top():
    rng = np.random.default_rng(41)
    baseline = 0.2
    frame = pd.DataFrame({
        "parameter": [f"p{i}" for i in range(7)],
        "low_value": baseline - rng.uniform(0, 0.1, size=7),
        "high_value": baseline + rng.uniform(0, 0.1, size=7),
    })
    fig = plots.plot_tornado(frame, baseline=baseline, title="urgency")
    ax = fig.axes[0]
    low, high = bars(ax)
    swing = (frame["high_value"] - frame["low_value"]).abs()
    order = swing.sort_values(ascending=False).index
    assert [t.get_text() for t in ax.get_yticklabels()] == list(frame.loc[order, "parameter"])
    assert ax.yaxis_inverted()
    np.testing.assert_array_equal([r.get_y() + r.get_height() / 2 for r in low], np.arange(7))
    # bars run from the baseline to the answer at each end
    np.testing.assert_allclose([r.get_x() for r in low], baseline)
    np.testing.assert_allclose([r.get_x() + r.get_width() for r in low], frame.loc[order, "low_value"], atol=1e-12)
    np.testing.assert_allclose([r.get_x() + r.get_width() for r in high], frame.loc[order, "high_value"], atol=1e-12)
    assert ax.get_title() == "urgency"


def test_tornado_shows_the_shorter_bar_in_front_when_both_ends_move_one_way():
    frame = pd.DataFrame({"parameter": ["a", "b"], "low_value": [0.25, 0.3], "high_value": [0.4, 0.22]})
    low, high = bars(plots.plot_tornado(frame, baseline=0.2).axes[0])
    assert low[0].get_zorder() > high[0].get_zorder()
    assert high[1].get_zorder() > low[1].get_zorder()


def test_tornado_needs_a_baseline():
    frame = pd.DataFrame({"parameter": ["a"], "low_value": [0.1], "high_value": [0.3]})
    with pytest.raises(ValueError, match="baseline"):
        plots.plot_tornado(frame)
    ax = plots.plot_tornado(frame.assign(baseline=0.2)).axes[0]
    assert [r.get_x() for r in bars(ax)[0]] == [0.2]


# -- save -----------------------------------------------------------------------------


def test_save_writes_a_png_and_closes_the_figure(tmp_path, eyelid):
    fig = plots.plot_result(eyelid)
    number = fig.number
    path = plots.save(fig, tmp_path / "out" / "result.png")
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000
    assert not plt.fignum_exists(number)


def test_many_saved_figures_raise_no_warning(tmp_path):
    for i in range(25):  # past pyplot's 20-open-figures warning, an error under pytest
        plots.save(validation_plots.plot_topk({"top1": 0.5, "top3": 0.8}), tmp_path / f"r{i}.png", dpi=10)
    assert plt.get_fignums() == []


# -- every figure on the library's real outputs (issue 16 item 4) -----------------------


@pytest.fixture(scope="module")
def with_intervals():
    ev = {"location": "arm", "age": 50, "sex": "male", "diet": "balanced"}
    return infer(ev, network=load_network(), intervals=30, rng=np.random.default_rng(1))


def test_plot_result_takes_a_result_with_its_own_intervals(with_intervals):
    r = with_intervals
    assert list(r.intervals.columns) == ["5%", "50%", "95%"]  # the library's own table
    ax = plots.plot_result(r, top=6).axes[0]
    np.testing.assert_allclose([b.get_width() for b in bars(ax)[0]], r.causes.head(6).to_numpy(), atol=1e-12)
    seg = _error_segments(ax)
    top = r.causes.index[:6]
    np.testing.assert_allclose(seg[:, 0], r.intervals.loc[top, "5%"], atol=1e-12)
    np.testing.assert_allclose(seg[:, 1], r.intervals.loc[top, "95%"], atol=1e-12)
    assert "5% to 95% (dot: 50%)" in [t.get_text() for t in ax.get_legend().get_texts()]
    lo, hi = r.intervals.loc["urgency", "5%"], r.intervals.loc["urgency", "95%"]
    assert f"(90% interval {lo:.1%} to {hi:.1%})" in ax.get_title()


def test_explorer_draws_a_result_with_intervals(with_intervals):
    from model.interactive.explorer import draw

    fig = draw({"location": ["arm"]}, with_intervals)
    assert [c for c in fig.axes[0].containers if isinstance(c, ErrorbarContainer)]


def test_plot_tornado_takes_the_sensitivity_table_as_it_comes():
    from model.uncertainty import sensitivity

    net = load_network()
    r = infer({"location": "arm", "age": 50, "sex": "male", "diet": "balanced"}, network=net)
    table = sensitivity(net, r.evidence, "urgency", k=5, kinds=("prior",))  # what Result.sensitivity returns, on priors only (fast)
    fig = plots.plot_tornado(table)
    ax = fig.axes[0]
    low, high = bars(ax)
    point = table.attrs["point"]
    assert point == pytest.approx(r.urgency, abs=1e-9)
    np.testing.assert_allclose([b.get_x() for b in low], point)
    order = (table["at_high"] - table["at_low"]).abs().sort_values(ascending=False, kind="stable").index
    assert [t.get_text() for t in ax.get_yticklabels()] == list(table.loc[order, "parameter"])
    np.testing.assert_allclose([b.get_x() + b.get_width() for b in low], table.loc[order, "at_low"], atol=1e-12)
    np.testing.assert_allclose([b.get_x() + b.get_width() for b in high], table.loc[order, "at_high"], atol=1e-12)
    assert ax.get_title() == "One-way sensitivity of urgency"


@pytest.fixture(scope="module")
def validated():
    from model.validation.report import validate

    return validate(network=load_network(), n=300, seed=3, workers=1)


@pytest.mark.full
def test_validation_figures_take_validate_output(validated):
    v = validated
    m = v.metrics
    ax = validation_plots.plot_confusion(m["triage"]).axes[0]
    counts = {t.get_gid(): t.get_text() for t in ax.texts if t.get_gid()}
    assert counts["count-0-0"] == str(m["triage"]["matrix"][0][0])
    top1, top3 = bars(validation_plots.plot_topk(m["ranking"]).axes[0])
    assert top1[0].get_height() == pytest.approx(m["ranking"]["top1"]) and top3[0].get_height() == pytest.approx(m["ranking"]["top3"])
    rows = v.result.urgency.index[v.result.ok]
    urgent = v.cases.loc[rows, "true_level"].isin(["soon", "emergency"]).to_numpy()
    fig = validation_plots.plot_reliability({"urgency": (urgent, v.result.urgency[rows].to_numpy())}, strategy="uniform", min_count=1)
    (line,) = [ln for ln in fig.axes[0].get_lines() if ln.get_label().startswith("urgency")]
    assert line.get_label() == f"urgency (ECE {m['urgency']['ece']:.3f})"


@pytest.fixture(scope="module")
def four_worlds():
    from model.validation.report import WORLDS, validate

    net = load_network()
    return [validate(network=net, n=500, world=w, seed=5, workers=1, interviews=0) for w in WORLDS]


@pytest.mark.full
def test_the_reports_urgency_diagram_has_one_panel_per_world_on_shared_axes_with_full_bins(four_worlds):
    """issue 26 item 8: on real batch results, a reader can read each world's curve."""
    from model.validation.report import urgency_curves, urgency_reliability

    fig = urgency_reliability(four_worlds)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in shown] == [v.world for v in four_worlds]
    assert fig.get_suptitle() == "urgency = P(soon or emergency)"
    for ax in shown[1:]:
        assert ax.get_shared_x_axes().joined(shown[0], ax) and ax.get_shared_y_axes().joined(shown[0], ax)
    for ax, (world, (urgent, p)) in zip(shown, urgency_curves(four_worlds).items()):
        (line,) = [ln for ln in ax.get_lines() if ln.get_label().startswith(world)]
        n_bins = validation.supported_bins(len(p), 15, plots.MIN_BIN_CASES)
        mean_p, freq, count = validation.reliability(urgent, p, n_bins=n_bins, strategy="quantile", min_count=plots.MIN_BIN_CASES)
        assert count.min() >= plots.MIN_BIN_CASES and count.sum() == len(p)
        assert len(line.get_xdata()) == len(count) >= 5  # one line a panel, several bins
        np.testing.assert_allclose(line.get_xdata(), mean_p, atol=1e-12)
        np.testing.assert_allclose(line.get_ydata(), freq, atol=1e-12)
        (band,) = [c for c in ax.collections if c.get_gid() == f"band:{world}"]  # the bands are kept
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert legend[-1].startswith(f"{len(count)} bins of {count.min():,}")
        assert legend[-2] == "95% interval of each bin (exact binomial)"
    fig.canvas.draw()


def test_write_report_saves_the_panelled_figures(four_worlds, tmp_path):
    from model.validation.report import write_report

    write_report(tmp_path, four_worlds[:2], None, 1.0)
    import matplotlib.image as mpimg

    image = mpimg.imread(tmp_path / "reliability_urgency.png")
    assert image.shape[1] > image.shape[0]  # two panels side by side
    text = (tmp_path / "report.md").read_text()
    assert "cases_per_second: the batch inference alone" in text


# -- plot_network -----------------------------------------------------------------------


def _segments(ax, gid):
    (coll,) = [c for c in ax.collections if c.get_gid() == gid]
    return coll


def _nodes(ax):
    return {t.get_gid().split(":", 1)[1]: t for t in ax.texts if (t.get_gid() or "").startswith("node:")}


def test_plot_network_draws_every_node_and_edge_in_three_layers():
    net = load_network()
    ax = plots.plot_network(net).axes[0]
    nodes = _nodes(ax)
    assert set(nodes) == set(net.exposures) | set(net.causes) | set(net.findings)
    x = {n: t.get_position()[0] for n, t in nodes.items()}
    assert {x[e] for e in net.exposures} == {0.0} and {x[c] for c in net.causes} == {1.0} and {x[f] for f in net.findings} == {2.0}
    n_exposure_edges = sum(len(net.cause_parents[c]) for c in net.causes)
    n_links = sum(int((net.link[f][:, 0] < 1).sum()) for f in net.findings)
    assert len(_segments(ax, "exposure-edges").get_segments()) == n_exposure_edges
    links = _segments(ax, "link-edges")
    assert len(links.get_segments()) == n_links
    widths = np.asarray(links.get_linewidths())
    assert widths.max() > 4 * widths.min()  # strong links stand out
    for c in net.causes:  # each cause's box has its triage level's colour
        level = TRIAGE_LEVELS[net.cause_level[c]]
        assert matplotlib.colors.same_color(nodes[c].get_bbox_patch().get_facecolor(), plots.LEVEL_COLOURS[level])
    assert f"{n_links} links" in ax.get_title()


def test_plot_network_focus_draws_one_cause_neighbourhood_with_strengths():
    net = load_network()
    ax = plots.plot_network(net, focus="als_mnd").axes[0]
    nodes = _nodes(ax)
    i = net.causes.index("als_mnd")
    linked = [f for f in net.findings if net.link[f][i, 0] < 1]
    assert set(nodes) == {"als_mnd", *net.cause_parents["als_mnd"], *linked}
    assert len(_segments(ax, "link-edges").get_segments()) == len(linked)
    # a region's strength is P(region | the cause alone) = P(twitching | cause) x P(site | cause, twitching)
    arm = float(net.twitch["als_mnd"]) * net.link["twitch_arm"][i, 1]
    assert nodes["twitch_arm"].get_text() == f"twitch_arm: P {arm:.2g}"
    mild, marked = net.link["weakness"][i, 1:]
    assert nodes["weakness"].get_text() == f"weakness: mild {mild:.2g}, marked {marked:.2g}"
    rr = net.priors.causes["als_mnd"].relative_risk["family_history"]["present"].value
    assert nodes["family_history"].get_text() == f"family_history: present x{rr:.3g}"
    # a finding's neighbourhood: the causes that can produce it
    ax = plots.plot_network(net, focus="bulbar").axes[0]
    j = [k for k, c in enumerate(net.causes) if net.link["bulbar"][k, 0] < 1]
    assert set(_nodes(ax)) == {"bulbar", *(net.causes[k] for k in j)}


def test_plot_network_link_widths_are_p_finding_given_the_cause_alone():
    """Issue #18: a twitch region's link waits on the cause's switch, so its strength is
    P(twitching | cause) x P(site | cause, twitching); another finding's is 1 - P(its
    lowest state | cause). The width of each link in the whole network grows with it."""
    net = load_network()
    links = _segments(plots.plot_network(net).axes[0], "link-edges")
    strength = []
    for f in net.findings:
        for i, c in enumerate(net.causes):
            if net.link[f][i, 0] < 1:
                p = 1 - net.link[f][i, 0]
                strength.append(float(net.twitch[c]) * p if f in net.regions else p)
    lo, hi = plots.LINK_WIDTH
    np.testing.assert_allclose(links.get_linewidths(), lo + (hi - lo) * np.array(strength), rtol=0, atol=1e-12)
    # a finding's neighbourhood labels each cause with the same strength: for stress,
    # which twitches in only some of those who have it, below P(eyelid | stress, twitching)
    focus = _nodes(plots.plot_network(net, focus="twitch_eyelid").axes[0])
    stress = float(net.twitch["stress_anxiety"]) * net.link["twitch_eyelid"][net.causes.index("stress_anxiety"), 1]
    assert float(net.twitch["stress_anxiety"]) < 1
    assert focus["stress_anxiety"].get_text() == f"stress_anxiety: P {stress:.2g}"


def test_plot_network_bad_focus_names_it():
    with pytest.raises(ValueError, match=r"^focus: 'als' is not a node of the network; did you mean 'als_mnd'\? allowed: a cause, finding or exposure \(stress_anxiety, "):
        plots.plot_network(load_network(), focus="als")
