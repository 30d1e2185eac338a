"""Equity and outcome monitoring (issue 16): referral composition against the eligible
population, disparity, outcomes and costs, as suppressed aggregates only."""

import os

# Suppression solves small least-squares problems inside a request: BLAS threads would only
# fight the server's other workers for the cores (measured: 5 s instead of 0.3 s under load).
# Set before numpy is first imported; an operator's own setting wins.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
