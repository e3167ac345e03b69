"""Advice beyond one answer: which question to ask next (`ranking`: the value of an
answer, or of two, to the advice and to the ranking of the causes)."""
