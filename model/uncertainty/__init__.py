"""What the ranges in priors/ do to an answer: intervals over redrawn networks
(`draws`) and one-way sensitivity (`oneway`)."""

from .draws import INTERVAL_QUANTILES, compile_draws, interval_draws, intervals, scale_ranges, stack_networks
from .oneway import OneWay, Parameter, one_way, parameters, sensitivity, with_parameter

__all__ = [
    "INTERVAL_QUANTILES", "compile_draws", "interval_draws", "intervals", "scale_ranges", "stack_networks",
    "OneWay", "Parameter", "one_way", "parameters", "sensitivity", "with_parameter",
]
