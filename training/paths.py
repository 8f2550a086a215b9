"""Where things are, for every module of the pipeline (each may run from any working directory)."""
import os

TRAINING = os.path.dirname(os.path.abspath(__file__))  # training/
ROOT = os.path.dirname(TRAINING)                        # the repository root
DATA = os.path.join(TRAINING, ".data")                  # what data/prepare.py writes (git-ignored)
