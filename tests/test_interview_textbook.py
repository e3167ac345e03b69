"""The interview on the textbook set (model/data/textbook.toml, issue 25): scripted people
built from each presentation who answer only what they are asked (a standardized
patient: the signs written, every other sign absent, context not written unknown), under
both goals."""

import sys
from pathlib import Path

import pandas as pd
import pytest

from model import infer, load_network
from model.validation.vignettes import load_textbook

sys.path.insert(0, str(Path(__file__).parent))
from respondent import interview, standardized  # noqa: E402

LEVELS = ["self_care", "routine", "soon", "emergency"]
# issue 25: the average number of questions each goal may take
MEAN_QUESTIONS = {"causes": 12, "triage": 8}
# issue 25: with goal="causes", the expected cause in the top 3 for at least this share
TOP3_CAUSES = 0.9
# the default suite interviews every SAMPLE-th presentation (all of them with --runslow)
SAMPLE = 5


def score(goal, presentations):
    net = load_network()
    rows = []
    for p in presentations:
        person = standardized(p["evidence"])
        iv = interview(person, goal=goal, network=net)
        told = infer(person, network=net)  # full information: everything the person could answer
        rows.append({
            "id": p["id"], "level": LEVELS.index(p["triage"]), "advice": LEVELS.index(iv.result.advice),
            "full": LEVELS.index(told.advice), "questions": len(iv.asked),
            "top3": p["expected"][0] in list(iv.result.causes.index[:3]) if p["expected"] else None,
            "asked": [k for k, _ in iv.asked],
        })
    return pd.DataFrame(rows).set_index("id")


def check(d, goal, *, averages):
    for asked in d["asked"]:
        assert len(asked) == len(set(asked)), asked
    # safety against full information: told everything, soon or more -> interviewed soon or more
    urgent_full = d[d["full"] >= 2]
    assert (urgent_full["advice"] >= 2).all(), urgent_full
    # self_care presentations end at self_care, soon or emergency ones never at self_care
    assert (d.loc[d["level"] == 0, "advice"] == 0).all(), d[d["level"] == 0]
    assert (d.loc[d["level"] >= 2, "advice"] >= 1).all(), d[d["level"] >= 2]
    if averages:
        assert d["questions"].mean() <= MEAN_QUESTIONS[goal], d["questions"].describe()


@pytest.mark.slow
@pytest.mark.parametrize("goal", ["causes", "triage"])
def test_scripted_textbook_people_sample(goal):
    d = score(goal, load_textbook()[::SAMPLE])
    check(d, goal, averages=False)


@pytest.mark.slow
@pytest.mark.parametrize("goal", ["causes", "triage"])
def test_scripted_textbook_people_every_presentation(goal):
    d = score(goal, load_textbook())
    print(goal, d.drop(columns="asked").describe().to_string())
    check(d, goal, averages=True)


@pytest.mark.slow
def test_scripted_textbook_people_rank_the_expected_cause_in_the_top_3():
    # measured 91.4% (53 of 58; 86.2% before a group answered "some of those" was
    # followed sign by sign, 48.3% before the issue), 94.8% told everything. The misses
    # are partial pictures: myositis and SMA (7th told everything too), Isaacs (4th told
    # everything too), a dystrophy whose family history is not asked, and bulbar ALS
    # whose speech is not asked once the tongue has made the case soon
    d = score("causes", load_textbook())
    ranked = d["top3"].dropna().astype(bool)
    assert ranked.mean() >= TOP3_CAUSES, d[d["top3"] == False]  # noqa: E712
