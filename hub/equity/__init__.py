"""Equity and outcome monitoring (issue 16): referral composition against the eligible
population, disparity, outcomes and costs, as suppressed aggregates only."""
