"""The model as data: the vocabulary, the priors read and checked, the evidence a person
gives, the triage rules and questions of triage.toml, and the one compiled `Network`
(with its draws within the ranges, and its derived store). Nothing here computes a
posterior."""
