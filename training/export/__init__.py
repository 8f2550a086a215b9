"""Export: checkpoint -> Hugging Face / Optimum ONNX folder (export.py), graph cleanup and weight quantization."""
