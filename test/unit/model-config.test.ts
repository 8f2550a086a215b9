// config.json as the engine trusts it: every count a whole number in range and consistent with the others and with
// the ONNX graph, or a one-line error naming the field; never a model that loads with 0 heads or reaches ONNX Runtime
// with a context of -5. Property-based: any config is either accepted with sane numbers or refused with model-invalid.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/protocol/engine';
import { LoadedModel } from '../../src/worker/engine';
import { parseModelConfig } from '../../src/worker/modelFolder';

const FIXTURES = path.resolve(__dirname, '../fixtures/models');
const LLAMA = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'llama-tiny', 'config.json'), 'utf8')) as Record<string, unknown>;

const refusal = (raw: Record<string, unknown>): string => {
  try {
    parseModelConfig(raw, {});
  } catch (error) {
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe('model-invalid');
    return (error as Error).message;
  }
  throw new Error('accepted');
};

describe('config.json validation', () => {
  it('refuses counts that are zero, negative, fractional or absurd, naming the field', () => {
    expect(refusal({ ...LLAMA, num_attention_heads: 0 })).toBe("config.json's num_attention_heads is 0: it must be a whole number from 1 to 4,096");
    expect(refusal({ ...LLAMA, max_position_embeddings: -5 })).toBe("config.json's max_position_embeddings is -5: it must be a whole number from 1 to 16,777,216");
    expect(refusal({ ...LLAMA, max_position_embeddings: 1e12 })).toMatch(/^config\.json's max_position_embeddings is 1000000000000: it must be a whole number/);
    expect(refusal({ ...LLAMA, num_hidden_layers: 2.5 })).toMatch(/^config\.json's num_hidden_layers is 2\.5/);
    expect(refusal({ ...LLAMA, vocab_size: 1e9 })).toMatch(/^config\.json's vocab_size is 1000000000/);
    expect(refusal({ ...LLAMA, num_key_value_heads: 3 })).toBe("config.json's num_attention_heads (4) is not a multiple of num_key_value_heads (3)");
    expect(refusal({ ...LLAMA, num_key_value_heads: 8 })).toMatch(/^config\.json's num_key_value_heads is 8: it must be a whole number from 1 to 4$/);
    const { head_dim: _, ...noHeadDim } = LLAMA;
    expect(refusal({ ...noHeadDim, hidden_size: 66 })).toBe("config.json's hidden_size (66) is not a multiple of num_attention_heads (4), and it gives no head_dim");
    expect(refusal({ ...LLAMA, num_hidden_layers: 'two' })).toBe('config.json lacks the layer count, head count, hidden size or vocabulary size');
  });

  it('accepts every real fixture\'s config as it is', () => {
    const folders = [FIXTURES, path.join(FIXTURES, '../hf')].flatMap((root) => fs.readdirSync(root).map((name) => path.join(root, name)));
    const models = [...folders, path.resolve(__dirname, '../../models/attentive-code-14m')].filter((folder) => fs.existsSync(path.join(folder, 'config.json')));
    expect(models.length).toBeGreaterThan(10);
    for (const folder of models) {
      const raw = JSON.parse(fs.readFileSync(path.join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
      const config = parseModelConfig(raw, {});
      expect(config.heads % config.kvHeads, folder).toBe(0);
    }
  });

  it('any config is refused with model-invalid or gives whole, positive, consistent numbers (fast-check)', () => {
    const count = fc.oneof(fc.integer({ min: -3, max: 70000 }), fc.double({ noNaN: false }), fc.constantFrom(0, 1e12, -1, 0.5), fc.string(), fc.constant(null));
    fc.assert(
      fc.property(
        fc.record({ num_hidden_layers: count, num_attention_heads: count, num_key_value_heads: count, hidden_size: count, vocab_size: count, max_position_embeddings: count, head_dim: count }, { requiredKeys: [] }),
        (fields) => {
          let config;
          try {
            config = parseModelConfig({ ...fields }, {});
          } catch (error) {
            return error instanceof EngineError && error.code === 'model-invalid' && !error.message.includes('\n');
          }
          const counts = [config.layers, config.heads, config.kvHeads, config.hiddenSize, config.vocabSize, config.contextLength, config.headDim];
          return counts.every((n) => Number.isInteger(n) && n >= 1) && config.heads % config.kvHeads === 0 && config.contextLength <= 1 << 24;
        },
      ),
      { numRuns: 2000, seed: 20261206 },
    );
  });

  it('refuses a config.json that does not describe its ONNX graph, and releases the session', async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-config-mismatch-'));
    try {
      fs.cpSync(path.join(FIXTURES, 'llama-tiny'), folder, { recursive: true });
      const write = (changes: Record<string, unknown>) => fs.writeFileSync(path.join(folder, 'config.json'), JSON.stringify({ ...LLAMA, ...changes }));
      write({ num_hidden_layers: 3 });
      await expect(LoadedModel.load(folder, { quantization: ['fp32'], threads: 1 })).rejects.toThrow(/^config\.json says 3 layers, but the ONNX graph has 2: they do not belong together$/);
      write({ num_key_value_heads: 4 });
      await expect(LoadedModel.load(folder, { quantization: ['fp32'], threads: 1 })).rejects.toThrow(/^config\.json says 4 key\/value heads of 16, but the ONNX graph's cache has 2 of 16/);
      write({});
      const model = await LoadedModel.load(folder, { quantization: ['fp32'], threads: 1 });
      expect(model.info().heads).toBe(4);
      await model.release();
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });
});
