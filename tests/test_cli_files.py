"""Case files from the shell and batches that say what happened (issue 26 items 4 and 5):
`twitchdx infer --input cases.csv --output results.csv`, NaN advice for failed rows,
bad-row messages that count in words, one `errors` vocabulary, empty input."""

import io
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from model import BatchResult, infer, load_network
from model.network import rules as T
from model.cli.main import main
from model.network.evidence import NODE_KEYS, USER_KEYS
from model.validation.synthetic import evidence_of, sample_cases, truth_of

ALLOWED_KEYS = f"allowed: {', '.join(USER_KEYS)} (or a node name: {', '.join(NODE_KEYS)})"
EYELIDS = "location: 'eyelids' is not a location; did you mean 'eyelid'? allowed: eyelid, face, tongue, arm, leg, trunk, widespread"


@pytest.fixture(scope="module")
def net():
    return load_network()


def run(argv, capsys):
    out = io.StringIO()
    code = main(argv, stdout=out)
    err = capsys.readouterr().err
    # the engine's one-time compile notice is not this command's message
    err = "".join(line for line in err.splitlines(keepends=True) if "compiling the exact engine" not in line)
    return code, out.getvalue(), err


# -- item 4: batches -------------------------------------------------------------------


def test_a_failed_rows_advice_is_nan_as_documented(net):
    for batch in (
        infer([{"location": "arm"}, {"location": "eyelids"}], network=net, errors="collect"),
        infer(pd.DataFrame({"location": ["arm", "eyelids"]}), network=net, errors="collect"),
    ):
        assert batch.advice[0] in T.LEVELS
        assert isinstance(batch.advice[1], float) and np.isnan(batch.advice[1])
        assert batch.advice.isna().tolist() == [False, True]
        assert np.isnan(batch.urgency[1]) and batch.causes.loc[1].isna().all() and batch.triage.loc[1].isna().all()


def test_one_bad_row_is_a_bad_row(net):
    with pytest.raises(ValueError) as info:
        infer(pd.DataFrame({"locaton": ["arm"]}), network=net)
    assert str(info.value) == f"1 bad row: column 'locaton' is not an evidence key; did you mean 'location'? {ALLOWED_KEYS} (row 0)"
    with pytest.raises(ValueError) as info:
        infer([{"location": "arm"}, {"location": "eyelids"}], network=net)
    assert str(info.value) == f"1 bad row: row 1: {EYELIDS}"


def test_two_bad_rows_are_bad_rows(net):
    with pytest.raises(ValueError) as info:
        infer(pd.DataFrame({"location": ["arm", "leg", "eyelid"], "locaton": ["arm", None, "leg"]}), network=net)
    assert str(info.value) == f"2 bad rows: column 'locaton' is not an evidence key; did you mean 'location'? {ALLOWED_KEYS} (rows 0, 2)"
    with pytest.raises(ValueError) as info:
        infer([{"location": "eyelids"}, {"location": "arm"}, {"location": "eyelids"}], network=net)
    assert str(info.value) == f"2 bad rows: row 0: {EYELIDS}; row 2: location: 'eyelids' is not a location; did you mean 'eyelid'? allowed: as above"


@pytest.mark.parametrize("evidence", [
    {"location": "arm"},
    [{"location": "arm"}],
    pd.DataFrame({"location": ["arm"]}),
], ids=["dict", "list", "frame"])
@pytest.mark.parametrize("errors", ["ignore", "coerce", "Raise", None])
def test_errors_is_raise_or_collect_for_every_kind_of_input(evidence, errors, net):
    with pytest.raises(ValueError) as info:
        infer(evidence, network=net, errors=errors)
    assert str(info.value) == f"errors: {errors!r} is not one of raise, collect"


def test_a_single_case_takes_only_raise(net):
    assert infer({"location": "arm"}, network=net, errors="raise").advice in T.LEVELS
    with pytest.raises(ValueError) as info:
        infer({"location": "arm"}, network=net, errors="collect")
    assert str(info.value) == (
        "errors: 'collect' is for a batch (a list of dicts or a DataFrame); a single case raises its "
        "ValueError: pass [case] to collect its failure"
    )
    batch = infer([{"location": "eyelids"}], network=net, errors="collect")  # as the message says
    assert list(batch.errors["error"]) == [EYELIDS]


@pytest.mark.parametrize("empty", [[], pd.DataFrame(), pd.DataFrame({"location": [], "sleep": []})], ids=["list", "frame", "frame with columns"])
@pytest.mark.parametrize("errors", ["raise", "collect"])
def test_an_empty_batch_is_an_empty_result_with_every_column(empty, errors, net):
    batch = infer(empty, network=net, errors=errors)
    assert isinstance(batch, BatchResult) and len(batch) == 0 and len(batch.errors) == 0
    assert list(batch.causes.columns) == list(net.causes) and list(batch.triage.columns) == list(T.LEVELS)
    assert list(batch.to_frame().columns) == [*net.causes, *T.LEVELS, "urgency", "advice", "error"]
    assert "an empty `BatchResult`" in infer.__doc__ and "An empty input" in BatchResult.__doc__


def test_to_frame_is_one_row_a_case_with_the_reasons(net):
    frame = pd.DataFrame({"location": ["arm", "eyelids", "leg"]}, index=["p1", "p2", "p3"])
    batch = infer(frame, network=net, errors="collect")
    table = batch.to_frame()
    assert list(table.index) == ["p1", "p2", "p3"]
    pd.testing.assert_frame_equal(table[list(net.causes)], batch.causes)
    pd.testing.assert_frame_equal(table[list(T.LEVELS)], batch.triage)
    assert table["error"].isna().tolist() == [True, False, True] and table.loc["p2", "error"] == EYELIDS
    assert table["advice"].isna().tolist() == [False, True, False]


# -- item 5: twitchdx infer --input FILE --output FILE ---------------------------------


@pytest.fixture(scope="module")
def round_trip(net, tmp_path_factory):
    """10,000 sampled cases written to CSV, run through the command line."""
    folder = tmp_path_factory.mktemp("round_trip")
    cases = sample_cases(net, 10_000, rng=np.random.default_rng(2026))
    cases.to_csv(folder / "cases.csv", index=False)
    out = io.StringIO()
    code = main(["infer", "--input", str(folder / "cases.csv"), "--output", str(folder / "results.csv")], stdout=out)
    return cases, folder, code, out.getvalue()


@pytest.mark.full
def test_a_csv_round_trip_of_10000_cases_equals_infer_on_the_frame(round_trip, net):
    cases, folder, code, out = round_trip
    assert code == 0
    assert out == f"wrote {folder / 'results.csv'}: 10,000 cases\n"
    results = pd.read_csv(folder / "results.csv", index_col="row")
    want = infer(cases, network=net)
    assert list(results.index) == list(range(10_000))
    np.testing.assert_allclose(results[list(net.causes)].to_numpy(), want.causes.to_numpy(), atol=1e-12, rtol=0)
    np.testing.assert_allclose(results[list(T.LEVELS)].to_numpy(), want.triage.to_numpy(), atol=1e-12, rtol=0)
    np.testing.assert_allclose(results["urgency"].to_numpy(), want.urgency.to_numpy(), atol=1e-12, rtol=0)
    assert results["advice"].tolist() == want.advice.tolist()
    assert results["error"].isna().all()


def test_the_label_columns_are_copied_through_first(round_trip, net):
    cases, folder, _, _ = round_trip
    results = pd.read_csv(folder / "results.csv", index_col="row")
    labels = list(truth_of(cases).columns)
    assert list(results.columns) == [*labels, *net.causes, *T.LEVELS, "urgency", "advice", "error"]
    assert labels[:4] == ["true_level", "primary", "responsible", "present"]
    got, want = results[labels], truth_of(cases)
    for column in labels:
        assert got[column].fillna("").astype(str).tolist() == want[column].fillna("").astype(str).tolist(), column


def test_without_output_the_results_go_to_stdout_as_csv(round_trip, capsys):
    cases, folder, _, _ = round_trip
    small = folder / "small.csv"
    cases.head(50).to_csv(small, index=False)
    code, out, err = run(["infer", "--input", str(small)], capsys)
    assert code == 0 and err == ""
    printed = pd.read_csv(io.StringIO(out), index_col="row")
    pd.testing.assert_frame_equal(printed, pd.read_csv(folder / "results.csv", index_col="row").head(50))


def test_bad_rows_are_reported_with_their_row_numbers_and_a_non_zero_exit(net, tmp_path):
    cases = sample_cases(net, 10, rng=np.random.default_rng(7))
    cases["location"] = cases["location"].astype(object)
    cases.loc[3, "location"] = "eyelids"
    cases.to_csv(tmp_path / "cases.csv", index=False)
    proc = subprocess.run(
        [sys.executable, "-m", "model", "infer", "--input", "cases.csv", "--output", "results.csv"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert proc.returncode == 1
    assert proc.stdout == "wrote results.csv: 10 cases\n"
    assert proc.stderr.splitlines()[-1] == "twitchdx: 1 of 10 rows failed; its reason is in the error column of results.csv"
    results = pd.read_csv(tmp_path / "results.csv", index_col="row")
    assert results["error"].dropna().to_dict() == {3: EYELIDS}
    assert results["urgency"].isna().tolist() == [i == 3 for i in range(10)]
    assert results["advice"].isna().tolist() == [i == 3 for i in range(10)]
    ok = infer(evidence_of(cases).drop(index=3), network=net)
    np.testing.assert_allclose(results.drop(index=3)[list(net.causes)].to_numpy(), ok.causes.to_numpy(), atol=1e-12, rtol=0)


@pytest.mark.full
def test_two_failed_rows_are_counted_in_the_summary(net, tmp_path, capsys):
    cases = evidence_of(sample_cases(net, 12_000, rng=np.random.default_rng(8)))
    cases["age"] = cases["age"].astype(object)
    cases.loc[[5, 11_999], "age"] = -5
    cases.to_csv(tmp_path / "cases.csv", index=False)
    code, out, err = run(["infer", "--input", str(tmp_path / "cases.csv"), "--output", str(tmp_path / "results.csv")], capsys)
    assert code == 1
    assert err == f"twitchdx: 2 of 12,000 rows failed; their reasons are in the error column of {tmp_path / 'results.csv'}\n"
    errors = pd.read_csv(tmp_path / "results.csv", index_col="row")["error"].dropna()
    assert list(errors.index) == [5, 11_999]
    assert set(errors) == {"age: '-5' is outside [16, 120) years; the model is for adults"}


def test_an_index_written_by_pandas_or_named_is_the_row_label(net, tmp_path, capsys):
    frame = pd.DataFrame({"location": ["arm", "eyelids", "leg"], "sleep": ["short", None, "adequate"]}, index=["p1", "p2", "p3"])
    frame.to_csv(tmp_path / "unnamed.csv")  # pandas writes the index as a first column without a header
    code, out, err = run(["infer", "--input", str(tmp_path / "unnamed.csv")], capsys)
    assert code == 1
    assert err == "twitchdx: 1 of 3 rows failed; its reason is in the error column of the output\n"
    results = pd.read_csv(io.StringIO(out), index_col="row")
    assert list(results.index) == ["p1", "p2", "p3"] and results["error"].dropna().to_dict() == {"p2": EYELIDS}
    frame.rename_axis("patient").reset_index().to_csv(tmp_path / "named.csv", index=False)
    code, out, err = run(["infer", "--input", str(tmp_path / "named.csv"), "--index-col", "patient"], capsys)
    assert code == 1
    results = pd.read_csv(io.StringIO(out), index_col="patient")
    assert list(results.index) == ["p1", "p2", "p3"]
    want = infer(frame, network=net, errors="collect")
    np.testing.assert_allclose(results["urgency"].to_numpy(), want.urgency.to_numpy(), atol=1e-12, rtol=0)


def test_a_column_that_is_no_evidence_key_is_an_error_for_the_file(tmp_path, capsys):
    pd.DataFrame({"locaton": ["arm"], "sleep": ["short"]}).to_csv(tmp_path / "cases.csv", index=False)
    code, out, err = run(["infer", "--input", str(tmp_path / "cases.csv")], capsys)
    assert code == 2 and out == ""
    assert err == (
        f"twitchdx: error: {tmp_path / 'cases.csv'}: column 'locaton' is not an evidence key; did you mean 'location'? "
        "(the keys are the options of twitchdx infer --help, with _ for -; a column naming the cases goes in --index-col COLUMN)\n"
    )
    pd.DataFrame({"location": ["arm"], "case_id": ["p1"], "slep": ["short"]}).to_csv(tmp_path / "two.csv", index=False)
    code, out, err = run(["infer", "--input", str(tmp_path / "two.csv")], capsys)
    assert code == 2
    assert err == (
        f"twitchdx: error: {tmp_path / 'two.csv'}: 2 columns are not evidence keys: 'case_id', 'slep' (did you mean 'sleep'?) "
        "(the keys are the options of twitchdx infer --help, with _ for -; a column naming the cases goes in --index-col COLUMN)\n"
    )


def test_a_file_without_cases_gives_the_columns_and_a_warning(net, tmp_path, capsys):
    (tmp_path / "cases.csv").write_text("location,sleep\n")
    code, out, err = run(["infer", "--input", str(tmp_path / "cases.csv"), "--output", str(tmp_path / "results.csv")], capsys)
    assert code == 0
    assert err == f"twitchdx: warning: {tmp_path / 'cases.csv'} holds no cases; {tmp_path / 'results.csv'} has the columns and no rows\n"
    assert (tmp_path / "results.csv").read_text().splitlines() == [",".join(["row", *net.causes, *T.LEVELS, "urgency", "advice", "error"])]
    (tmp_path / "blank.csv").write_text("")
    code, out, err = run(["infer", "--input", str(tmp_path / "blank.csv")], capsys)
    assert code == 2 and err == f"twitchdx: error: {tmp_path / 'blank.csv'}: the file is empty (not even a header line)\n"


def test_cases_on_standard_input(net, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("location,duration\neyelid,3\narm;leg,120\n"))
    code, out, err = run(["infer", "--input", "-"], capsys)
    assert code == 0 and err == ""
    results = pd.read_csv(io.StringIO(out), index_col="row")
    want = infer([{"location": "eyelid", "duration": 3}, {"location": "arm;leg", "duration": 120}], network=net)
    np.testing.assert_allclose(results[list(net.causes)].to_numpy(), want.causes.to_numpy(), atol=1e-12, rtol=0)


@pytest.mark.parametrize("argv, message", [
    (["--sleep", "short"], "--sleep: not with --input (the evidence of a case file is in its columns)"),
    (["--weakness-where", "one_limb"], "--weakness-where: not with --input (the evidence of a case file is in its columns)"),
    (["--intervals", "20"], "--intervals: not with --input (a case file's results go to --output, .csv or .parquet)"),
    (["--json"], "--json: not with --input (a case file's results go to --output, .csv or .parquet)"),
    (["--output", "results.xlsx"], "--output: results.xlsx: give a .csv or .parquet file"),
])
def test_options_that_do_not_go_with_input(argv, message, tmp_path, capsys):
    (tmp_path / "cases.csv").write_text("location\narm\n")
    code, out, err = run(["infer", "--input", str(tmp_path / "cases.csv"), *argv], capsys)
    assert (code, out) == (2, "")
    assert err == f"twitchdx: error: {message}\n"


@pytest.mark.parametrize("argv, message", [
    (["--input", "cases.xlsx"], "--input: cases.xlsx: give a .csv or .parquet file"),
    (["--input", "/nonexistent/cases.csv"], "/nonexistent/cases.csv: No such file or directory"),
    (["--location", "arm", "--output", "results.csv"], "--output: only with --input (a case file)"),
    (["--location", "arm", "--index-col", "patient"], "--index-col: only with --input (a case file)"),
])
def test_file_options_say_what_is_wrong(argv, message, capsys):
    code, out, err = run(["infer", *argv], capsys)
    assert (code, out) == (2, "")
    assert err == f"twitchdx: error: {message}\n"


def test_parquet_in_and_out(net, tmp_path, capsys):
    pytest.importorskip("pyarrow", reason="parquet needs the sweep extra: pip install 'twitchdx[sweep]'")
    cases = sample_cases(net, 300, rng=np.random.default_rng(3))
    cases.to_parquet(tmp_path / "cases.parquet")
    code, out, err = run(["infer", "--input", str(tmp_path / "cases.parquet"), "--output", str(tmp_path / "results.parquet")], capsys)
    assert code == 0 and err == ""
    results = pd.read_parquet(tmp_path / "results.parquet").set_index("row")
    want = infer(cases, network=net)
    np.testing.assert_allclose(results[list(net.causes)].to_numpy(), want.causes.to_numpy(), atol=1e-12, rtol=0)
    assert results["advice"].tolist() == want.advice.tolist()
    assert results["true_level"].tolist() == cases["true_level"].tolist()


def test_parquet_without_pyarrow_says_which_extra(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if the sweep extra were not installed
    (tmp_path / "cases.csv").write_text("location\narm\n")
    code, out, err = run(["infer", "--input", str(tmp_path / "cases.csv"), "--output", "results.parquet"], capsys)
    assert (code, out) == (1, "")
    assert err == "twitchdx: error: results.parquet: a parquet file needs pyarrow, from the sweep extra: pip install 'twitchdx[sweep]' (or use a .csv file)\n"
    code, out, err = run(["infer", "--input", "cases.parquet"], capsys)
    assert (code, out) == (1, "")
    assert err == "twitchdx: error: cases.parquet: a parquet file needs pyarrow, from the sweep extra: pip install 'twitchdx[sweep]' (or use a .csv file)\n"


def test_a_long_file_gets_the_batch_paths_progress_bar(monkeypatch, tmp_path, capsys):
    import model.inference.analysis as A

    bars = []

    class Bar:  # tqdm as the batch path makes it, counting the cases it is told of
        def __init__(self, **kwargs):
            self.kwargs, self.n = kwargs, 0
            bars.append(self)

        def update(self, n):
            self.n += n

        def close(self):
            pass

    monkeypatch.setattr(A, "tqdm", Bar)
    monkeypatch.setattr(A, "PROGRESS_FROM", 5)  # stands for 10**5 rows
    (tmp_path / "short.csv").write_text("location\narm\nleg\n")
    (tmp_path / "long.csv").write_text("location\n" + "arm\nleg\n" * 3)
    assert run(["infer", "--input", str(tmp_path / "short.csv")], capsys)[0] == 0
    assert bars == []
    assert run(["infer", "--input", str(tmp_path / "long.csv")], capsys)[0] == 0
    assert [(b.kwargs["total"], b.kwargs["unit"], b.n) for b in bars] == [(6, "case", 6)]


def test_help_shows_the_case_file_options(capsys):
    with pytest.raises(SystemExit):
        main(["infer", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "twitchdx infer --input cases.csv --output results.csv" in text
    assert "--input FILE a case file, .csv or .parquet" in text
    assert "--index-col COLUMN a column of the case file that names the cases" in text
