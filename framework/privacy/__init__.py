"""Differentially private partition selection: calibration, bounding, weighting, noise, thresholds."""
