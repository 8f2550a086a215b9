// The ONNX file names of a model folder in the Optimum / transformers.js layout (onnx/), per precision, best first:
// what the engine loads (worker/modelFolder.ts) and what a download fetches (extension/models/hub.ts).

import type { Quantization } from './engine';

export const ONNX_FILES: Record<Quantization, readonly string[]> = {
  q4: ['model_q4.onnx', 'model_q4f16.onnx', 'model_bnb4.onnx', 'decoder_model_merged_q4.onnx', 'decoder_model_merged_q4f16.onnx'],
  int8: ['model_quantized.onnx', 'model_int8.onnx', 'model_uint8.onnx', 'decoder_model_merged_quantized.onnx'],
  fp32: ['model.onnx', 'decoder_model_merged.onnx'],
  fp16: ['model_fp16.onnx', 'decoder_model_merged_fp16.onnx'],
};

/** The precision an ONNX file name stands for, or undefined for a name the engine does not load. */
export function quantizationOfFile(name: string): Quantization | undefined {
  return (Object.keys(ONNX_FILES) as Quantization[]).find((quantization) => ONNX_FILES[quantization].includes(name));
}
