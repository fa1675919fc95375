"""Evaluation of the on-device models: LFW-style verification, metrics, latency, build checks."""
