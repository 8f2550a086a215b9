// The memory check before a model loads: the weights (the ONNX file and its external data) plus runtime overhead,
// against what the machine has available; refused with both figures, through the engine worker as users meet it.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineClient } from '../../src/backend/local/engineClient';
import { memoryNeeded } from '../../src/protocol/estimates';
import { availableMemory, checkMemory, weightBytes } from '../../src/worker/memoryCheck';
import { workerTransport } from '../../src/backend/local/workerTransport';

const FIXTURE = path.resolve(__dirname, '../fixtures/models/llama-tiny');
const WORKER = path.resolve(__dirname, '../../dist/worker.js');

describe('memory check', () => {
  it('counts the ONNX file and its external data, and adds the runtime overhead', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-memory-'));
    try {
      fs.writeFileSync(path.join(dir, 'model.onnx'), Buffer.alloc(1000));
      fs.writeFileSync(path.join(dir, 'model.onnx_data'), Buffer.alloc(5000));
      fs.writeFileSync(path.join(dir, 'model_q4.onnx'), Buffer.alloc(300)); // another quantization: not counted
      expect(weightBytes(path.join(dir, 'model.onnx'))).toBe(6000);
      expect(memoryNeeded(1e9)).toBeGreaterThan(2.4e9);
      expect(() => checkMemory(path.join(dir, 'model.onnx'), 1e9)).not.toThrow();
      expect(() => checkMemory(path.join(dir, 'model.onnx'), 1000)).toThrow(/Not enough memory for model.onnx: it needs about 0\.06 GB .* and 0\.00 GB is available/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(availableMemory()).toBeGreaterThan(64 * 1024 * 1024);
  });

  it('the engine refuses a model that does not fit, with the figures, and loads it when it does', async () => {
    const client = new EngineClient(workerTransport(WORKER));
    try {
      await expect(client.load({ folder: FIXTURE, options: { availableMemoryBytes: 1024 * 1024 } })).rejects.toMatchObject({ code: 'model-too-large' });
      expect(client.state.kind).toBe('error');
      const info = await client.load({ folder: FIXTURE });
      expect(info.layers).toBeGreaterThan(0);
    } finally {
      await client.dispose();
    }
  });
});
