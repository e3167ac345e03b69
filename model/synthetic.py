"""`model.synthetic`, the public name for sampling: cases drawn from the network and from
worlds it does not know. The sampler lives in `model.validation.synthetic`, the redrawn
worlds in `model.network.draws`; this module only gathers their public names."""

from .network.draws import DEFAULT_SEED, marginal_prior, perturbed_network, priors_with_values, redraw_priors, redraw_values
from .validation.synthetic import evidence_of, sample_cases, true_levels, truth_columns, truth_of

__all__ = [
    "DEFAULT_SEED", "sample_cases", "evidence_of", "truth_of", "truth_columns", "true_levels",
    "perturbed_network", "redraw_priors", "redraw_values", "priors_with_values", "marginal_prior",
]
