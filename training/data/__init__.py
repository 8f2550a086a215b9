"""Data: the corpus manifest, the BPE tokenizer, fill-in-the-middle, chat data, and prepare.py (-> training/.data/)."""
