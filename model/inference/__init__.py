"""Exact inference: the engine's layout (`engine`), every compiled sum (`kernels`), the
posteriors and triage probabilities of evidence rows (`analysis`) and the levels,
urgency and advice from them (`levels`)."""
