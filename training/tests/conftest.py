import os
import sys

# the training scripts import each other as top-level modules (they are run as `python3 training/x.py`)
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
