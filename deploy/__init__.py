"""Deployment helpers: the Besu network generator (`deploy.besu.make_network`)."""
