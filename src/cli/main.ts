// `attentive`: the engine outside the editor (also what benchmarks and scripts use).
//   attentive generate|chat|complete|attention|info [--model DIR|bundled] ...

import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { extensionRoot, resolveModelFolder } from '../backend/local/bundledModel';
import { LocalBackend } from '../backend/local/localBackend';
import { describeFim, EngineError, type GenerateParams, type GenerateResult, type ModelInfo, type Quantization, type SamplingOptions } from '../protocol/engine';
import { inProcessTransport } from '../worker/inProcessTransport';
import { DEFAULT_SERVE_PORT, serve, serveOptionsProblem, type ServeOptions } from './serve';

const USAGE = `Usage:
  attentive generate [--model DIR|bundled] --prompt TEXT [--max-tokens N] [--temperature T] [--top-k K] [--top-p P]
                     [--repetition-penalty R] [--seed S] [--stop STR]... [--trim] [--json]
  attentive chat     [--model ...] [--system TEXT] MESSAGE [sampling options] [--json]
  attentive complete [--model ...] --prefix TEXT [--suffix TEXT] [sampling options] [--json]
  attentive attention [--model ...] --text CODE --json
  attentive info     [--model ...] [--json]
  attentive serve    [--model ...] [--host 127.0.0.1] [--port 8012] [--api-key KEY] [--allow-remote]
                     (the OpenAI-compatible API: /v1/models, /v1/chat/completions, /v1/completions)
Common: --threads N, --quantization q4,int8,fp32,fp16`;

const OPTIONS = {
  model: { type: 'string' },
  prompt: { type: 'string' },
  system: { type: 'string' },
  prefix: { type: 'string' },
  suffix: { type: 'string' },
  text: { type: 'string' },
  'max-tokens': { type: 'string' },
  temperature: { type: 'string' },
  'top-k': { type: 'string' },
  'top-p': { type: 'string' },
  'repetition-penalty': { type: 'string' },
  seed: { type: 'string' },
  stop: { type: 'string', multiple: true },
  threads: { type: 'string' },
  quantization: { type: 'string' },
  trim: { type: 'boolean' },
  host: { type: 'string' },
  port: { type: 'string' },
  'api-key': { type: 'string' },
  'allow-remote': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

function number(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new UsageError(`--${name} must be a number, got "${value}"`);
  return parsed;
}

function required(value: string | undefined, name: string): string {
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  const command = positionals[0];
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  const quantization = values.quantization?.split(',') as Quantization[] | undefined;
  const apiKey = values['api-key'] ?? process.env['ATTENTIVE_API_KEY'];
  const serveOptions: ServeOptions = {
    host: values.host ?? '127.0.0.1',
    port: number(values.port, 'port') ?? DEFAULT_SERVE_PORT,
    allowRemote: values['allow-remote'] === true,
    ...(apiKey ? { apiKey } : {}),
  };
  if (command === 'serve') {
    const problem = serveOptionsProblem(serveOptions);
    if (problem) throw new UsageError(problem);
  }
  const threads = number(values.threads, 'threads');
  const folder = resolveModelFolder(values.model, extensionRoot(__dirname));
  // Graphs rewritten to expose attention (models without attentions.{i}) are kept in the user's cache folder.
  const cacheDir = path.join(process.env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache'), 'attentive', 'model-cache');
  // The CLI may block on session.run: the engine runs in this thread.
  const backend = new LocalBackend(inProcessTransport(), () => ({
    folder,
    options: { ...(threads ? { threads } : {}), ...(quantization ? { quantization } : {}), cacheDir },
  }));
  try {
    const info = await backend.ensureLoaded();
    const sampling: SamplingOptions & Pick<GenerateParams, 'maxNewTokens' | 'stop' | 'overflow'> = {};
    const maxNewTokens = number(values['max-tokens'], 'max-tokens');
    if (maxNewTokens !== undefined) sampling.maxNewTokens = maxNewTokens;
    const temperature = number(values.temperature, 'temperature');
    if (temperature !== undefined) sampling.temperature = temperature;
    const topK = number(values['top-k'], 'top-k');
    if (topK !== undefined) sampling.topK = topK;
    const topP = number(values['top-p'], 'top-p');
    if (topP !== undefined) sampling.topP = topP;
    const penalty = number(values['repetition-penalty'], 'repetition-penalty');
    if (penalty !== undefined) sampling.repetitionPenalty = penalty;
    const seed = number(values.seed, 'seed');
    if (seed !== undefined) sampling.seed = seed;
    if (values.stop) sampling.stop = values.stop;
    sampling.overflow = values.trim ? 'trim' : 'error';
    const stream = values.json ? undefined : (event: { type: string; text?: string }) => {
      if (event.type === 'delta') process.stdout.write(event.text ?? '');
    };
    const callOptions = stream ? { onEvent: stream } : {};
    let result: GenerateResult;
    switch (command) {
      case 'info':
        console.log(values.json ? JSON.stringify(info) : formatInfo(info));
        return 0;
      case 'serve':
        await serve(backend, info.name, serveOptions, (baseUrl) => console.error(`attentive serve: ${info.name} at ${baseUrl} (Ctrl+C stops)`));
        return 0;
      case 'generate':
        result = await backend.generate({ ...sampling, prompt: required(values.prompt, 'prompt') }, callOptions);
        break;
      case 'chat': {
        const message = positionals.slice(1).join(' ');
        if (!message) throw new UsageError('chat needs a MESSAGE');
        const messages = [
          ...(values.system ? [{ role: 'system' as const, content: values.system }] : []),
          { role: 'user' as const, content: message },
        ];
        result = await backend.chat({ ...sampling, messages }, callOptions);
        break;
      }
      case 'complete': {
        const params = { ...sampling, prefix: required(values.prefix, 'prefix'), ...(values.suffix !== undefined ? { suffix: values.suffix } : {}) };
        result = await backend.complete(params, callOptions);
        break;
      }
      case 'attention': {
        const attention = await backend.attention({ text: required(values.text, 'text') });
        const output = {
          model: info.name,
          tokens: attention.tokens,
          layers: attention.layers,
          heads: attention.heads,
          weights: attention.weights.map((layer) => Array.from(layer)),
        };
        console.log(JSON.stringify(output));
        return 0;
      }
      default:
        throw new UsageError(`Unknown command "${command}"`);
    }
    if (values.json) {
      console.log(JSON.stringify({ model: info.name, text: result.text, tokenIds: result.tokenIds, finishReason: result.finishReason, usage: result.usage }));
    } else {
      process.stdout.write('\n');
      const u = result.usage;
      const trimmed = u.trimmedPromptTokens ? `, ${u.trimmedPromptTokens} prompt tokens trimmed` : '';
      console.error(
        `[${info.name}: ${u.promptTokens} prompt + ${u.generatedTokens} generated tokens, ` +
          `first token ${u.timeToFirstTokenMs.toFixed(0)} ms, ${u.decodeTokensPerSecond.toFixed(0)} tokens/s, ${result.finishReason}${trimmed}]`,
      );
    }
    return 0;
  } finally {
    await backend.dispose();
  }
}

function formatInfo(info: ModelInfo): string {
  const mb = (info.fileSizeBytes / 1e6).toFixed(1);
  return [
    `model         ${info.name} (${info.folder})`,
    `architecture  ${info.architecture} (${info.modelType})`,
    `parameters    ${(info.parameters / 1e6).toFixed(2)}M`,
    `layers        ${info.layers}, heads ${info.heads} (kv ${info.kvHeads}), head size ${info.headDim}, hidden ${info.hiddenSize}`,
    `vocabulary    ${info.vocabSize}`,
    `context       ${info.contextLength} tokens`,
    `onnx          ${info.onnxFile} (${info.quantization}, ${mb} MB)`,
    `attention     ${info.hasAttentionOutputs ? 'exposed (attentions.{i})' : 'not in the graph: added by a rewritten copy on first use'}`,
    `chat template ${info.hasChatTemplate ? 'yes' : 'no'}; fill-in-the-middle ${describeFim(info)}`,
    `threads       ${info.threads}`,
  ].join('\n');
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // One line, no stack trace: bad input is a user error, not a crash.
    const message = error instanceof EngineError || error instanceof UsageError ? error.message : (error as Error).message ?? String(error);
    console.error(`attentive: ${message}`);
    if (error instanceof UsageError) console.error('Run "attentive --help" for usage.');
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
