"""The notebook explorer (model/interactive/explorer.py): the update the widgets call, and its display."""

import sys

import pytest

from model import infer
from model.interactive.explorer import CONTROLS, NO_MEDICATIONS, Explorer


@pytest.fixture
def explorer():
    return Explorer({"location": "eyelid", "duration": "under_1_week", "sleep": "short"})


def test_starts_from_the_given_case_and_shows_infer_on_it(explorer):
    view = explorer.view
    assert view.evidence == {"location": ["eyelid"], "duration": "under_1_week", "sleep": "short"}
    expected = infer(view.evidence)
    assert view.error is None
    assert view.result.causes.equals(expected.causes)
    assert view.result.advice == expected.advice


def test_changing_a_dropdown_changes_the_evidence_and_the_result(explorer):
    before = explorer.view
    after = explorer.update(duration="over_3_months", weakness="marked")
    assert after.evidence["duration"] == "over_3_months" and after.evidence["weakness"] == "marked"
    assert after is explorer.view
    assert after.result.urgency > before.result.urgency
    assert after.result.causes.equals(infer(after.evidence).causes)
    assert after.figure is not before.figure


def test_none_makes_a_dropdown_unknown_again(explorer):
    explorer.update(weakness="mild")
    view = explorer.update(weakness=None)
    assert "weakness" not in view.evidence


def test_checkboxes_build_the_location(explorer):
    view = explorer.update(arm=True, leg=True)
    assert view.evidence["location"] == ["eyelid", "arm", "leg"]
    view = explorer.update(location="widespread")
    assert view.evidence["location"] == ["arm", "leg", "trunk"]
    view = explorer.update(location=None)
    assert "location" not in view.evidence  # no region ticked: unknown, not "nowhere"


def test_medications_and_none_of_them_exclude_each_other():
    ex = Explorer()
    assert "medications" not in ex.view.evidence
    assert ex.update(**{NO_MEDICATIONS: True}).evidence["medications"] == []
    view = ex.update(diuretic=True)
    assert view.evidence["medications"] == ["diuretic"] and not ex.values[NO_MEDICATIONS]
    view = ex.update(**{NO_MEDICATIONS: True})
    assert view.evidence["medications"] == [] and not ex.values["diuretic"]
    assert ex.update(medications="none").evidence["medications"] == []
    assert "medications" not in ex.update(medications=None).evidence


def test_values_are_read_as_infer_reads_them():
    ex = Explorer({"age": 67, "duration": 30, "smoking": "yes"})
    assert ex.values["age"] == "over_60"
    assert ex.values["duration"] == "2_weeks_to_3_months"
    assert ex.values["smoking"] is True


def test_bad_names_and_values_are_errors_that_name_them(explorer):
    with pytest.raises(ValueError, match=r"^'weaknes' is not an explorer control; did you mean 'weakness'\? controls: eyelid, "):
        explorer.update(weaknes="mild")
    with pytest.raises(ValueError, match=r"^weakness: 'severe' is not a weakness state; allowed: none, mild, marked$"):
        explorer.update(weakness="severe")
    with pytest.raises(ValueError, match=r"^arm: 'yes' is not a checkbox value; allowed: True, False$"):
        explorer.update(arm="yes")
    with pytest.raises(ValueError, match=r"^location: 'elbow' is not one of eyelid, face, tongue, arm, leg, trunk$"):
        explorer.update(location=["elbow"])
    # a failed update leaves the controls as they were
    assert explorer.view.evidence == {"location": ["eyelid"], "duration": "under_1_week", "sleep": "short"}


def test_evidence_infer_rejects_is_shown_not_raised(monkeypatch):
    import model.interactive.explorer

    ex = Explorer({"location": "arm"})
    message = "evidence is impossible under the model: tics=present cannot occur together"

    def refuse(evidence, **kwargs):
        raise ValueError(message)

    monkeypatch.setattr(model.interactive.explorer, "infer", refuse)
    view = ex.update(tics=True)
    assert view.result is None and view.error == message
    assert view.evidence == {"location": ["arm"], "tics": True}
    assert view.summary() == f"No result: {message}"


def test_every_control_has_a_unique_name_and_offers_unknown_or_a_box():
    names = [c.name for c in CONTROLS]
    assert len(names) == len(set(names))
    for c in CONTROLS:
        assert (c.kind, c.options[0]) in (("dropdown", None), ("checkbox", False))


def test_widgets_call_update_and_keep_boxes_in_step():
    pytest.importorskip("ipywidgets", reason='the notebooks extra: pip install -e ".[notebooks]"')
    ex = Explorer({"location": "arm"})
    panel = ex.widgets()
    panel.controls["weakness"].value = "marked"
    assert ex.view.evidence == {"location": ["arm"], "weakness": "marked"}
    assert ex.view.result.advice in ("soon", "emergency")
    panel.controls[NO_MEDICATIONS].value = True
    panel.controls["estrogen"].value = True
    assert panel.controls[NO_MEDICATIONS].value is False  # unticked by the medication
    assert ex.view.evidence["medications"] == ["estrogen"]


def test_show_degrades_to_a_static_example_without_ipywidgets(monkeypatch, capsys):
    pytest.importorskip("IPython", reason='the notebooks extra: pip install -e ".[notebooks]"')
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets -> ImportError
    ex = Explorer({"location": "tongue"})
    ex.show()
    out = capsys.readouterr().out
    assert "static example" in out and f"Advice: {ex.view.result.advice}" in out
    with pytest.raises(ImportError):
        ex.show(widgets=True)
