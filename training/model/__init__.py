"""Models: Attentive's GPT (model.py) and the tiny Llama / GPT-2 style reference decoders (reference_models.py)."""
