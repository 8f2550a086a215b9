// Curated open code models whose ONNX exports in the transformers.js layout exist on the Hugging Face Hub. Sizes are
// estimates from the parameter counts (4-bit weights: ~0.6 byte per parameter with scales and fp32 embeddings); the
// exact download size comes from the hub's listing and is shown before anything is fetched. The memory shown is the
// engine's own estimate from the file size (memoryCheck.ts), the figure it checks before loading.

import { memoryNeeded } from '../../protocol/estimates';

export interface CatalogEntry {
  repo: string;
  title: string;
  /** config.json's model_type: test/unit/hf-fixtures.test.ts requires a fixture of it from the genuine transformers class. */
  modelType: 'qwen2' | 'llama' | 'gpt_bigcode' | 'codegen';
  parameters: number;
  /** Estimated download of the 4-bit file, in MB. */
  downloadMB: number;
  licence: string;
  chat: boolean;
  /** The fill-in-the-middle format its tokenizer has (null: none; inline completion then sends the prefix). */
  fim: 'qwen' | 'starcoder' | 'deepseek' | null;
  note: string;
}

export const CATALOG: CatalogEntry[] = [
  {
    repo: 'onnx-community/Qwen2.5-Coder-0.5B-Instruct',
    modelType: 'qwen2',
    title: 'Qwen2.5-Coder 0.5B Instruct',
    parameters: 494e6,
    downloadMB: 480,
    licence: 'Apache-2.0',
    chat: true,
    fim: 'qwen',
    note: 'small and quick; chat and completion',
  },
  {
    repo: 'onnx-community/Qwen2.5-Coder-1.5B-Instruct',
    modelType: 'qwen2',
    title: 'Qwen2.5-Coder 1.5B Instruct',
    parameters: 1.54e9,
    downloadMB: 1300,
    licence: 'Apache-2.0',
    chat: true,
    fim: 'qwen',
    note: 'better answers, about 3x slower than 0.5B',
  },
  {
    repo: 'onnx-community/deepseek-coder-1.3b-instruct-ONNX',
    modelType: 'llama',
    title: 'DeepSeek-Coder 1.3B Instruct',
    parameters: 1.35e9,
    downloadMB: 1100,
    licence: 'DeepSeek License (permits commercial use)',
    chat: true,
    fim: 'deepseek',
    note: 'code-only training; chat and completion',
  },
  {
    repo: 'Xenova/tiny_starcoder_py',
    modelType: 'gpt_bigcode',
    title: 'TinyStarCoder (Python)',
    parameters: 164e6,
    downloadMB: 170,
    licence: 'BigCode OpenRAIL-M',
    chat: false,
    fim: 'starcoder',
    note: 'Python completion with fill-in-the-middle; no chat',
  },
  {
    repo: 'Xenova/codegen-350M-mono',
    modelType: 'codegen',
    title: 'CodeGen 350M mono',
    parameters: 357e6,
    downloadMB: 350,
    licence: 'BSD-3-Clause',
    chat: false,
    fim: null,
    note: 'Python completion from the prefix; no chat',
  },
];

export function describeEntry(entry: CatalogEntry): string {
  const size = (mb: number) => (mb >= 1000 ? `${(mb / 1000).toFixed(1)} GB` : `${mb} MB`);
  const fim = entry.fim ? `fill-in-the-middle (${entry.fim})` : 'no fill-in-the-middle';
  const memoryMB = Math.round(memoryNeeded(entry.downloadMB * 1e6) / 1e6 / 100) * 100;
  return `≈${size(entry.downloadMB)} download · ≈${size(memoryMB)} memory · ${entry.licence} · ${entry.chat ? 'chat' : 'no chat'} · ${fim}`;
}
