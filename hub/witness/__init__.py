"""A witness (c2sp.org/tlog-witness): a small server that a public defender's office or an
oversight board runs on its own machine, with its own key and state, to cosign the hub's
checkpoints only while the log keeps growing, one tree at a time."""
