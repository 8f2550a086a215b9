// Peer check: @huggingface/transformers (the reference JS implementation, a devDependency only) loads the same
// fixture folders and generates the same greedy tokens as our engine and as PyTorch.

// First: ONNX Runtime's usage telemetry off before transformers.js or the engine starts it (as the engine does).
import '../../src/worker/noTelemetry';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AutoModelForCausalLM, Tensor, env } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoadedModel } from '../../src/worker/engine';

const FIXTURES = path.resolve(__dirname, '../fixtures/models');
// Our own architecture has no transformers.js class; it is compared with PyTorch in engine.test.ts.
const PEER_MODELS = ['llama-tiny', 'gpt2-tiny', 'gpt2-tiny-nopos'];

beforeAll(() => {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = FIXTURES + path.sep;
  env.useBrowserCache = false;
  env.useFSCache = false;
});

for (const name of PEER_MODELS) {
  describe(`peer: transformers.js on ${name}`, () => {
    const reference = JSON.parse(fs.readFileSync(path.join(FIXTURES, name, 'reference.json'), 'utf8')) as {
      prompts: Array<{ ids: number[]; text: string; greedy: number[] }>;
    };
    let ours: LoadedModel;
    beforeAll(async () => {
      ours = await LoadedModel.load(path.join(FIXTURES, name), { quantization: ['fp32'], threads: 1 });
    });
    afterAll(() => ours.release());

    it('generates the same greedy tokens as the engine', async () => {
      const peer = await AutoModelForCausalLM.from_pretrained(name, { dtype: 'fp32', local_files_only: true });
      try {
        for (const prompt of reference.prompts) {
          const steps = prompt.greedy.length;
          const inputIds = new Tensor('int64', BigInt64Array.from(prompt.ids, (id) => BigInt(id)), [1, prompt.ids.length]);
          const attentionMask = new Tensor('int64', new BigInt64Array(prompt.ids.length).fill(1n), [1, prompt.ids.length]);
          const output = (await peer.generate({
            input_ids: inputIds,
            attention_mask: attentionMask,
            max_new_tokens: steps,
            min_new_tokens: steps,
            do_sample: false,
          })) as { tolist(): bigint[][] };
          const peerTokens = output.tolist()[0]!.slice(prompt.ids.length).map(Number);
          const ourResult = await ours.generate({ prompt: prompt.text, maxNewTokens: steps, minNewTokens: steps, temperature: 0 });
          expect(ourResult.tokenIds).toEqual(peerTokens);
          expect(peerTokens).toEqual(prompt.greedy);
        }
      } finally {
        await peer.dispose();
      }
    });
  });
}
