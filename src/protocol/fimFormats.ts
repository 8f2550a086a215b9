// Fill-in-the-middle prompt formats per model family: the local engine detects the family from the tokenizer's special
// tokens (src/worker/fim.ts); a model server's family comes from a setting or its model id (src/backend/endpoint/).
// Public models are prompted in prefix-suffix-middle (PSM) order: the model writes the middle after the last sentinel.
// A model folder may ask for the suffix-prefix-middle variant (SPM, Bavarian et al. 2022 appendix D; what our model
// is trained for): "<PRE><SUF>{suffix}<MID>{prefix}", where the middle simply continues the prefix.

/** 'psm': prefix, suffix, then the middle after the last sentinel; 'spm': suffix first, the prompt ends with the prefix. */
export type FimOrder = 'psm' | 'spm';

export interface FimFormat {
  family: string;
  order: FimOrder;
  prefix: string;
  suffix: string;
  middle: string;
  /** Tokens that end a middle (besides the model's EOS). */
  stopTokens: string[];
  /** Builds the prompt text from the code before and after the cursor. */
  build(prefix: string, suffix: string): string;
}

export interface FimFamily {
  family: string;
  prefix: string;
  suffix: string;
  /** Empty for Codestral, whose prompt ends with the prefix. */
  middle: string;
  stopTokens: string[];
  /** Model ids of this family on model servers (Ollama, vLLM, LM Studio, llama.cpp name them after the repository). */
  modelIds: RegExp;
}

export const FIM_FAMILIES: readonly FimFamily[] = [
  // Ours and Qwen2.5-Coder.
  { family: 'qwen', prefix: '<|fim_prefix|>', suffix: '<|fim_suffix|>', middle: '<|fim_middle|>', stopTokens: ['<|endoftext|>', '<|fim_pad|>', '<|file_sep|>', '<|im_end|>'], modelIds: /qwen.*coder|attentive/i },
  // StarCoder / StarCoder2 / SantaCoder.
  { family: 'starcoder', prefix: '<fim_prefix>', suffix: '<fim_suffix>', middle: '<fim_middle>', stopTokens: ['<|endoftext|>', '<file_sep>'], modelIds: /starcoder|santacoder/i },
  // DeepSeek-Coder: <｜fim▁begin｜>prefix<｜fim▁hole｜>suffix<｜fim▁end｜>, the same order under other names.
  { family: 'deepseek', prefix: '<｜fim▁begin｜>', suffix: '<｜fim▁hole｜>', middle: '<｜fim▁end｜>', stopTokens: ['<｜end▁of▁sentence｜>', '<|EOT|>'], modelIds: /deepseek.*coder/i },
  // CodeLlama.
  { family: 'codellama', prefix: '▁<PRE>', suffix: '▁<SUF>', middle: '▁<MID>', stopTokens: ['▁<EOT>', '</s>'], modelIds: /codellama|code-llama/i },
  // Codestral: [SUFFIX]{suffix}[PREFIX]{prefix} (Mistral's reference tokenizer), the middle continues the prefix.
  { family: 'codestral', prefix: '[PREFIX]', suffix: '[SUFFIX]', middle: '', stopTokens: ['</s>'], modelIds: /codestral/i },
];

/** The family's prompt format; `stopTokens` narrowed by `hasToken` where the vocabulary is known. */
export function fimFormat(family: FimFamily, order: FimOrder = 'psm', hasToken: (token: string) => boolean = () => true): FimFormat {
  // CodeLlama's infilling prompt is "<PRE> {prefix} <SUF>{suffix} <MID>" (Meta's reference code); the others put
  // nothing between sentinels and code.
  const space = family.family === 'codellama' ? ' ' : '';
  const build =
    family.family === 'codestral'
      ? (prefix: string, suffix: string) => `${family.suffix}${suffix}${family.prefix}${prefix}`
      : order === 'spm'
        ? (prefix: string, suffix: string) => `${family.prefix}${family.suffix}${suffix}${space}${family.middle}${space}${prefix}`
        : (prefix: string, suffix: string) => `${family.prefix}${space}${prefix}${space}${family.suffix}${suffix}${space}${family.middle}`;
  return { family: family.family, order, prefix: family.prefix, suffix: family.suffix, middle: family.middle, stopTokens: family.stopTokens.filter(hasToken), build };
}

/** The family named (e.g. by a setting), or the one whose model ids match `modelId`; undefined for neither. */
export function fimFamilyFor(modelId: string, named?: string): FimFamily | undefined {
  if (named) return FIM_FAMILIES.find((family) => family.family === named);
  return FIM_FAMILIES.find((family) => family.modelIds.test(modelId));
}
