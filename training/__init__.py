"""Attentive's training pipeline (see training/README.md). Run its scripts from the repository root as
`/usr/bin/python3 -m training.<folder>.<module>`."""
