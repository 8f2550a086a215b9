"""Models: Attentive's GPT (model.py), and genuine transformers decoders behind the same interface (hf_decoders.py)."""
