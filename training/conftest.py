import os
import sys

# the pipeline is the package `training` (its scripts run as `python3 -m training.x.y` from the repository root):
# make it importable wherever pytest is started
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
