// Fill-in-the-middle prompt formats per model family, detected from the tokenizer's special tokens.
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

interface FimFamily {
  family: string;
  prefix: string;
  suffix: string;
  middle: string;
  stopTokens: string[];
}

const FAMILIES: FimFamily[] = [
  // Ours and Qwen2.5-Coder.
  { family: 'qwen', prefix: '<|fim_prefix|>', suffix: '<|fim_suffix|>', middle: '<|fim_middle|>', stopTokens: ['<|endoftext|>', '<|fim_pad|>', '<|file_sep|>', '<|im_end|>'] },
  // StarCoder / SantaCoder.
  { family: 'starcoder', prefix: '<fim_prefix>', suffix: '<fim_suffix>', middle: '<fim_middle>', stopTokens: ['<|endoftext|>', '<file_sep>'] },
  // DeepSeek-Coder: <｜fim▁begin｜>prefix<｜fim▁hole｜>suffix<｜fim▁end｜>, the same order under other names.
  { family: 'deepseek', prefix: '<｜fim▁begin｜>', suffix: '<｜fim▁hole｜>', middle: '<｜fim▁end｜>', stopTokens: ['<｜end▁of▁sentence｜>', '<|EOT|>'] },
  // CodeLlama.
  { family: 'codellama', prefix: '▁<PRE>', suffix: '▁<SUF>', middle: '▁<MID>', stopTokens: ['▁<EOT>', '</s>'] },
];

/** The FIM format whose three sentinels are all tokens of this vocabulary, or null (prefix-only completion). */
export function detectFimFormat(hasToken: (token: string) => boolean, order: FimOrder = 'psm'): FimFormat | null {
  for (const family of FAMILIES) {
    if (hasToken(family.prefix) && hasToken(family.suffix) && hasToken(family.middle)) {
      // CodeLlama's infilling prompt is "<PRE> {prefix} <SUF>{suffix} <MID>" (Meta's reference code); the others
      // put nothing between sentinels and code.
      const space = family.family === 'codellama' ? ' ' : '';
      return {
        family: family.family,
        order,
        prefix: family.prefix,
        suffix: family.suffix,
        middle: family.middle,
        stopTokens: family.stopTokens.filter(hasToken),
        build: order === 'spm'
          ? (prefix, suffix) => `${family.prefix}${family.suffix}${suffix}${space}${family.middle}${space}${prefix}`
          : (prefix, suffix) => `${family.prefix}${space}${prefix}${space}${family.suffix}${suffix}${space}${family.middle}`,
      };
    }
  }
  return null;
}
