"""Validation: synthetic case sets, metrics, the interview's scoring, clinical
vignettes, the report and the sweep. `model.validation` itself gives the metrics
(top-k accuracy, Brier, ECE, the triage confusion, recalibration), which live
in `model.validation.metrics`."""

from .metrics import (
    Recalibration, binomial_interval, bootstrap_interval, brier, brier_interval, calibration_intercept_slope, ece,
    ece_interval, fit_recalibration, reliability, reliability_intervals, supported_bins, topk_accuracy, triage_confusion,
)

__all__ = [
    "topk_accuracy", "brier", "brier_interval", "ece", "ece_interval", "reliability", "reliability_intervals",
    "calibration_intercept_slope", "triage_confusion", "Recalibration", "fit_recalibration",
    "binomial_interval", "bootstrap_interval", "supported_bins",
]
