// Commands about the model itself: show its info, reload it, and run a plain generation into the output channel.

import * as vscode from 'vscode';
import type { Backend } from '../../backend/backend';
import { describeFim, type GenerateResult, type ModelInfo } from '../../protocol/engine';
import { reportEngineError } from '../shared/reportError';
import { generationDefaults, readSettings } from '../shared/settings';

export const COMMAND_SHOW_MODEL_INFO = 'attentive.showModelInfo';
export const COMMAND_RELOAD_MODEL = 'attentive.reloadModel';
export const COMMAND_GENERATE = 'attentive.generate';

export function formatModelInfo(info: ModelInfo): string {
  return [
    `Model: ${info.name} (${info.architecture}, ${info.modelType})`,
    `Folder: ${info.folder}`,
    `ONNX: ${info.onnxFile} (${info.quantization}, ${(info.fileSizeBytes / 1e6).toFixed(1)} MB)`,
    `Parameters: ${(info.parameters / 1e6).toFixed(2)}M; layers ${info.layers}; heads ${info.heads} (KV ${info.kvHeads}); head size ${info.headDim}`,
    `Vocabulary: ${info.vocabSize}; context ${info.contextLength} tokens; threads ${info.threads}`,
    `Attention outputs: ${info.hasAttentionOutputs ? 'yes' : 'no (a rewritten copy of the graph adds them on first use)'}; chat template: ${info.hasChatTemplate ? 'yes' : 'no'}; fill-in-the-middle: ${describeFim(info)}`,
  ].join('\n');
}

export function registerModelCommands(context: vscode.ExtensionContext, backend: Backend<ModelInfo>, output: vscode.OutputChannel): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(COMMAND_SHOW_MODEL_INFO, async (): Promise<ModelInfo | undefined> => {
      try {
        const info = await backend.ensureLoaded();
        output.appendLine(formatModelInfo(info));
        output.show(true);
        void vscode.window.showInformationMessage(`Attentive: ${info.name}, ${(info.parameters / 1e6).toFixed(1)}M parameters, ${info.quantization}`);
        return info;
      } catch (error) {
        void reportEngineError(error);
        return undefined;
      }
    }),
    vscode.commands.registerCommand(COMMAND_RELOAD_MODEL, async (): Promise<ModelInfo | undefined> => {
      try {
        return await backend.reload();
      } catch (error) {
        void reportEngineError(error);
        return undefined;
      }
    }),
    // With a `{ prompt }` argument (scripts, tests) it runs without asking and returns the result.
    vscode.commands.registerCommand(COMMAND_GENERATE, async (args?: { prompt?: unknown; maxNewTokens?: unknown }): Promise<GenerateResult | undefined> => {
      const prompt = typeof args?.prompt === 'string' ? args.prompt : await vscode.window.showInputBox({ prompt: 'Attentive: text to continue' });
      if (!prompt) return undefined;
      const params = { ...generationDefaults(readSettings()), prompt };
      if (typeof args?.maxNewTokens === 'number') params.maxNewTokens = args.maxNewTokens;
      try {
        await backend.ensureLoaded();
        output.appendLine(`> ${prompt}`);
        output.show(true);
        const result = await backend.generate(params, {
          onEvent: (event) => {
            if (event.type === 'delta') output.append(event.text);
          },
        });
        output.appendLine(`\n[${result.usage.generatedTokens} tokens, ${result.usage.decodeTokensPerSecond.toFixed(0)} tokens/s, ${result.finishReason}]`);
        return result;
      } catch (error) {
        void reportEngineError(error);
        return undefined;
      }
    }),
  );
}
