// The VSIX allow-list (scripts/package.mjs): what a VSIX may hold, so that a stray file fails the build.

import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without type declarations
import { ALLOWED, unexpectedEntries } from '../../scripts/package.mjs';

describe('VSIX allow-list', () => {
  it('accepts what ships and flags everything else', () => {
    const shipped = [
      '[Content_Types].xml',
      'extension.vsixmanifest',
      'extension/package.json',
      'extension/readme.md',
      'extension/dist/extension.js',
      'extension/dist/webview/attention.js',
      'extension/dist/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
      'extension/dist/node_modules/onnxruntime-common/dist/cjs/package.json',
      'extension/models/attentive-code-14m/onnx/model_q4.onnx',
      'extension/models/attentive-code-14m/tokenizer.json',
      'extension/docs/attention-dark.png',
    ];
    expect(unexpectedEntries(shipped)).toEqual([]);
    const stray = [
      'extension/models/attentive-code-14m/onnx/model.onnx',
      'extension/models/attentive-code-14m/onnx/model_quantized.onnx',
      'extension/training/train.py',
      'extension/test/fixtures/models/llama-tiny/onnx/model.onnx',
      'extension/dist/extension.js.map',
      'extension/dist/bench.js',
      'extension/node_modules/onnxruntime-node/bin/napi-v6/win32/x64/DirectML.dll',
      'extension/dist/node_modules/onnxruntime-node/bin/napi-v6/win32/x64/DirectML.dll',
      'extension/docs/PERFORMANCE.md',
      'somewhere/else.txt',
    ];
    expect(unexpectedEntries([...shipped, ...stray])).toEqual(stray);
    expect((ALLOWED as RegExp[]).length).toBeGreaterThan(10);
  });
});
