"""Evaluation: parity and shared helpers (evaluate.py), bits per byte, FIM exact match, head survey, loss plots."""
