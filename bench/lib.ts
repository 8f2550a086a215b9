// What the benchmarks need from the engine, bundled to dist/bench.js (not shipped).
export { EngineClient } from '../src/backend/local/engineClient';
export { workerTransport } from '../src/backend/local/workerTransport';
export { readModelFolder } from '../src/worker/modelFolder';
export { bundledModelFolder } from '../src/backend/local/bundledModel';
export { ModelTokenizer } from '../src/worker/tokenizer';
export { CompletionService, DEFAULT_COMPLETION_SETTINGS } from '../src/extension/completion/completionService';
export { textLineSource } from '../src/extension/completion/documentWindow';
export { createRandom } from '../src/worker/sampling';
export { externalWeightsPath } from '../src/worker/externalWeights';
export { EndpointBackend } from '../src/backend/endpoint/endpointBackend';
export { startTransformersServe } from '../test/helpers/transformersServe';
export { LoadedModel } from '../src/worker/engine';
export { quantizationOfFile } from '../src/protocol/onnxFiles';
export { FileWindows, queryWords, similarSnippets } from '../src/extension/completion/neighbourSnippets';
