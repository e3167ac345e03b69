"""A what-if explorer for notebooks: controls -> evidence -> `infer()` -> figure.

The logic is plain Python and testable without Jupyter. An `Explorer` holds the
value of every control (a dropdown or a checkbox per evidence item (docs/model.md));
`Explorer.update(**changes)` applies changes and returns a `View`: the evidence
dict the controls stand for, its `Result` and a matplotlib figure. `Explorer.show()`
builds ipywidgets controls that call `update` on every change when ipywidgets is
installed, and otherwise renders the current view as a static example.

>>> ex = Explorer({"location": "eyelid"})
>>> view = ex.update(duration="over_3_months", weakness="none")
>>> view.evidence
{'location': ['eyelid'], 'duration': 'over_3_months', 'weakness': 'none'}
>>> view.result.advice in ("self_care", "routine", "soon", "emergency")
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from ..network import vocabulary as V
from ..api import Result, infer
from ..network.build import Network, load_network
from ..presentation.plots import LEVEL_COLOURS, plot_result

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

# How many causes the bar chart shows.
TOP_CAUSES = 10
# The checkbox that says "takes none of the listed medications".
NO_MEDICATIONS = "no_medications"

_GROUP_TITLES = {"where": "Where it twitches", "symptoms": "Symptoms", "context": "Context and risk factors"}


@dataclass(frozen=True)
class Control:
    """One control of the explorer.

    name : the keyword `Explorer.update` takes (an evidence key, a region, a medication,
        or `no_medications`).
    kind : "dropdown" (None means unknown) or "checkbox" (True / False).
    options : the values a dropdown offers, None (unknown) first; (False, True) for a checkbox.
    group : "where", "symptoms" or "context".
    """

    name: str
    kind: str
    options: tuple
    group: str

    @property
    def label(self) -> str:
        return self.name.replace("_", " ")

    def option_labels(self) -> list[tuple[str, Any]]:
        """(label, value) pairs for a dropdown: None reads "unknown", booleans "no"/"yes"."""
        names = {None: "unknown", True: "yes", False: "no"}
        return [(names.get(o, o) if not isinstance(o, str) else o.replace("_", " "), o) for o in self.options]


def _controls() -> tuple[Control, ...]:
    yes_no = (None, False, True)
    out = [Control(r, "checkbox", (False, True), "where") for r in V.REGIONS]
    out += [Control(f, "dropdown", (None,) + s, "symptoms") for f, s in V.ORDINAL_FINDINGS.items()]
    out += [Control(f, "dropdown", yes_no, "symptoms") for f in V.BINARY_FINDINGS]
    out += [Control(e, "dropdown", (None,) + s, "context") for e, s in V.CATEGORICAL_EXPOSURES.items()]
    out += [Control(e, "dropdown", yes_no, "context") for e in V.BINARY_EXPOSURES]
    out += [Control(m, "checkbox", (False, True), "context") for m in V.MEDICATIONS]
    out += [Control(NO_MEDICATIONS, "checkbox", (False, True), "context")]
    return tuple(out)


CONTROLS: tuple[Control, ...] = _controls()
_BY_NAME = {c.name: c for c in CONTROLS}


@dataclass(frozen=True, repr=False)
class View:
    """What the explorer shows for the controls' current values.

    evidence : the evidence dict passed to `infer()` (unknown items left out).
    result : its `Result`, or None when the evidence is impossible under the model.
    error : why there is no result (the ValueError's message), else None.
    figure : the posterior bars of the top causes and the triage distribution.
    """

    evidence: dict
    result: "Result | None"
    error: str | None
    figure: "Figure"

    def summary(self) -> str:
        """The advice in words: level, urgency, reason and the three leading causes."""
        if self.result is None:
            return f"No result: {self.error}"
        r = self.result
        top = ", ".join(f"{c} {p:.1%}" for c, p in r.causes.head(3).items())
        return (
            f"Advice: {r.advice} (urgency {r.urgency:.1%}). {r.advice_reason}.\n"
            f"Leading causes: {top}."
        )

    def __repr__(self) -> str:
        return f"View(evidence={self.evidence!r})\n{self.summary()}"


def draw(evidence: Mapping, result: "Result | None", *, error: str | None = None, top: int = TOP_CAUSES) -> "Figure":
    """A two-panel figure: the top causes' posteriors (`model.presentation.plots.plot_result`) and
    the triage distribution with the advice outlined.

    Built on `matplotlib.figure.Figure`, not pyplot, so that an explorer redrawing on
    every change leaves no open pyplot figures behind.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.5), layout="constrained")
    ax_c, ax_t = fig.subplots(1, 2, width_ratios=[3, 2])
    shown = ", ".join(f"{k}={v}" for k, v in evidence.items()) or "no evidence (twitching somewhere)"
    fig.suptitle(_wrap(shown, 110), fontsize=9)
    if result is None:
        for ax in (ax_c, ax_t):
            ax.set_axis_off()
        ax_c.text(0, 0.5, _wrap(f"No result: {error}", 70), fontsize=10, va="center", color=LEVEL_COLOURS["emergency"])
        return fig

    plot_result(result, ax=ax_c, top=top)
    ax_c.set_title(f"Top {top} causes (colour: the cause's triage level)", fontsize=10)

    tri = result.triage
    bars = ax_t.bar([lv.replace("_", " ") for lv in tri.index], tri.to_numpy(), color=[LEVEL_COLOURS[lv] for lv in tri.index])
    advised = list(tri.index).index(result.advice)
    bars[advised].set_edgecolor("black")
    bars[advised].set_linewidth(2.5)
    for x, p in enumerate(tri.to_numpy()):
        ax_t.text(x, p, f"{p:.1%}", ha="center", va="bottom", fontsize=8)
    ax_t.set_ylim(0, 1.1)
    ax_t.set_ylabel("P(level | evidence)")
    ax_t.set_title(f"Triage: advice {result.advice.replace('_', ' ')} (outlined)\nurgency P(soon or emergency) {result.urgency:.1%}", fontsize=10)
    return fig


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def _panel_class(W):
    """A VBox whose plain-text form (what a page that cannot run widgets shows) says what it is."""

    class ExplorerPanel(W.VBox):
        def __repr__(self) -> str:
            return "Explorer panel: live controls (open the notebook in Jupyter with ipywidgets to use them)"

    return ExplorerPanel


class Explorer:
    """Dropdowns and checkboxes for the evidence, live posterior bars and advice.

    Parameters
    ----------
    evidence : a starting case (evidence keys, as for `infer`); anything left out is
        unknown. Numbers for `age` and `duration` are read into their bands.
    network : the network to query (default: the bundled priors).

    Examples
    --------
    >>> ex = Explorer()
    >>> ex.update(location=["arm", "leg"], weakness="mild").evidence
    {'location': ['arm', 'leg'], 'weakness': 'mild'}
    >>> ex.update(arm=False).evidence
    {'location': ['leg'], 'weakness': 'mild'}
    """

    controls: tuple[Control, ...] = CONTROLS

    def __init__(self, evidence: Mapping[str, Any] | None = None, *, network: Network | None = None):
        self.network = network if network is not None else load_network()
        self.values: dict[str, Any] = {c.name: c.options[0] for c in CONTROLS}
        self.view: View | None = None
        self._apply(dict(evidence or {}))

    # -- the logic the widgets call ------------------------------------------------
    def update(self, **changes: Any) -> View:
        """Set controls (or the composite keys `location` and `medications`) and recompute.

        A control's name is an evidence key (docs/model.md), a region (`eyelid` ... `trunk`),
        a medication (`corticosteroid` ...) or `no_medications`; a dropdown takes None
        for unknown. Returns the new `View` (also kept as `self.view`). A name that is
        not a control, or a value a control does not offer, is a ValueError; evidence
        that is impossible under the model gives a view with `error` set.
        """
        self._apply(changes)
        return self.view

    def evidence(self) -> dict:
        """The evidence dict the controls stand for (unknown items left out)."""
        v = self.values
        out: dict[str, Any] = {}
        regions = [r for r in V.REGIONS if v[r]]
        if regions:
            out["location"] = regions
        for c in CONTROLS:
            if c.kind == "dropdown" and v[c.name] is not None:
                out[c.name] = v[c.name]
        meds = [m for m in V.MEDICATIONS if v[m]]
        if meds:
            out["medications"] = meds
        elif v[NO_MEDICATIONS]:
            out["medications"] = []
        return out

    def _apply(self, changes: Mapping[str, Any]) -> None:
        new = dict(self.values)
        for key, value in changes.items():
            if key == "location":
                self._set_group(new, V.REGIONS, "location", value)
            elif key == "medications":
                # an empty list (or "none") says: none of them; None says: unknown
                chosen = self._set_group(new, V.MEDICATIONS, "medications", value)
                new[NO_MEDICATIONS] = value is not None and not chosen
            elif key in _BY_NAME:
                new[key] = self._control_value(_BY_NAME[key], value)
                if key in V.MEDICATIONS and new[key]:
                    new[NO_MEDICATIONS] = False
                elif key == NO_MEDICATIONS and new[key]:
                    new.update({m: False for m in V.MEDICATIONS})
            else:
                import difflib

                close = difflib.get_close_matches(str(key), list(_BY_NAME) + ["location", "medications"], n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ";"
                raise ValueError(
                    f"{key!r} is not an explorer control{hint} controls: "
                    f"{', '.join(list(_BY_NAME) + ['location', 'medications'])}"
                )
        self.values = new
        self.view = self._compute()

    @staticmethod
    def _set_group(new: dict, names: tuple[str, ...], key: str, value: Any) -> set[str]:
        """Tick the named members of a checkbox group (None or [] clears it); return them."""
        if value is None:
            chosen: set[str] = set()
        else:
            tokens = [value] if isinstance(value, str) else list(value)
            tokens = [t.strip().lower() for part in tokens for t in str(part).split(";") if t.strip()]
            if key == "location":
                expanded: list[str] = []
                for t in tokens:
                    expanded += list(V.REGION_ALIASES.get(t, (t,)))
                tokens = expanded
            tokens = [t for t in tokens if not (key == "medications" and t == "none")]
            bad = [t for t in tokens if t not in names]
            if bad:
                raise ValueError(f"{key}: {bad[0]!r} is not one of {', '.join(names)}")
            chosen = set(tokens)
        new.update({n: n in chosen for n in names})
        return chosen

    def _control_value(self, control: Control, value: Any) -> Any:
        if control.kind == "checkbox":
            if not isinstance(value, bool):
                raise ValueError(f"{control.name}: {value!r} is not a checkbox value; allowed: True, False")
            return value
        if value is None:
            return None
        # read the value as infer() would (bands for numbers, yes/no words), then map
        # the node state back onto the dropdown's options
        state = self.network.encode({control.name: value})[control.name]
        if control.options[1:] == (False, True):
            return state == "present"
        return state

    def _compute(self) -> View:
        evidence = self.evidence()
        try:
            result, error = infer(evidence, network=self.network), None
        except ValueError as e:
            result, error = None, str(e)
        return View(evidence, result, error, draw(evidence, result, error=error))

    # -- display ---------------------------------------------------------------------
    def widgets(self):
        """The ipywidgets panel: controls by group, the figure and the advice below.

        Every change of a control calls `update` and redraws. Raises ImportError when
        ipywidgets is not installed.
        """
        import functools

        import ipywidgets as W

        boxes: dict[str, W.Widget] = {}
        for c in CONTROLS:
            if c.kind == "checkbox":
                label = "none of these medications" if c.name == NO_MEDICATIONS else c.label
                boxes[c.name] = W.Checkbox(value=self.values[c.name], description=label, indent=False, layout=W.Layout(width="170px"))
            else:
                boxes[c.name] = W.Dropdown(options=c.option_labels(), value=self.values[c.name], description=c.label,
                                           style={"description_width": "110px"}, layout=W.Layout(width="290px"))
        out = W.Output()
        syncing = [False]

        def render() -> None:
            from IPython.display import display

            with out:
                out.clear_output(wait=True)
                display(self.view.figure)
                print(self.view.summary())

        def changed(name: str, change) -> None:
            if syncing[0]:
                return
            self.update(**{name: change["new"]})
            syncing[0] = True
            try:  # a change may tick others off (a medication and "none of these")
                for n, w in boxes.items():
                    if w.value != self.values[n]:
                        w.value = self.values[n]
            finally:
                syncing[0] = False
            render()

        for n, w in boxes.items():
            w.observe(functools.partial(changed, n), names="value")
        pages = []
        for group in _GROUP_TITLES:
            members = [boxes[c.name] for c in CONTROLS if c.group == group]
            pages.append(W.Box(members, layout=W.Layout(flex_flow="row wrap")))
        tabs = W.Tab(children=pages, titles=tuple(_GROUP_TITLES.values()))
        render()
        panel = _panel_class(W)([tabs, out])
        panel.controls = boxes  # for scripting and tests: name -> widget
        panel.output = out
        return panel

    def show(self, *, widgets: bool | None = None) -> None:
        """Display the interactive panel, or a static example where widgets are not available.

        widgets : None (default) uses ipywidgets when it can be imported; False forces
            the static rendering (the current view's figure and advice).
        """
        try:
            from IPython.display import display
        except ImportError:  # plain Python: no figure display, the advice in words
            print(self.view.summary())
            return
        if widgets is not False:
            try:
                display(self.widgets())
                return
            except ImportError:
                if widgets:
                    raise
        display(self.view.figure)
        print("(static example: install ipywidgets for live controls)")
        print(self.view.summary())
