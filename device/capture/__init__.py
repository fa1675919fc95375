"""Pilot field kit: consented capture sessions encrypted at rest (store.py) and their
evaluation in ISO/IEC 30107-3 terms (evaluate.py); docs/pilot.md is the protocol."""
