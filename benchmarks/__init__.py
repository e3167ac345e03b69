"""twitchdx's benchmarks: the product's performance figures, measured and checked.

`python benchmarks/run.py` (or `python -m benchmarks`) runs the families below on
seeded case sets, prints each family's table and the table of targets (each figure met
or not), and saves every figure as JSON so two runs can be compared
(`--compare A.json B.json`) or two checkouts measured in one run (`--against PATH`).

Modules, one a family: `single` (one `infer()` a case, with tails), `questions`
(`next_questions()` and an interview's next question), `uncertainty` (intervals),
`batches` (`infer(DataFrame)` at 10^4-10^6 rows, one process and 2 workers, peak
memory), `processes` (the whole `twitchdx infer` process, warm and with an empty compile
cache; `import model`), `engines` (pgmpy and pyAgrum on the same cases), `numpy_reference`
(the numpy engines of `model.reference` beside the compiled one). Around them:
`cases` (the case sets), `stats` (tails, formatting), `targets` (the targets, each
written once), `side` (every family of one checkout in one process), `report`
(tables, side by side) and `cli` (the command).
"""
