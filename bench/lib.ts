// What the benchmarks need from the engine, bundled to dist/bench.js (not shipped).
export { EngineClient } from '../src/engine/client';
export { workerTransport } from '../src/engine/transport';
export { readModelFolder } from '../src/engine/modelFolder';
export { bundledModelFolder } from '../src/engine/bundledModel';
export { ModelTokenizer } from '../src/engine/tokenizer';
export { CompletionService, DEFAULT_COMPLETION_SETTINGS } from '../src/extension/completion/completionService';
export { textLineSource } from '../src/extension/completion/documentWindow';
export { createRandom } from '../src/engine/sampling';
export { externalWeightsPath } from '../src/engine/externalWeights';
