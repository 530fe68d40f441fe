"""Whether to believe the model: calibration diagnostics, conformal intervals and sets, out-of-
distribution flags, and the metrics they share."""
