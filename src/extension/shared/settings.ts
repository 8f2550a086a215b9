// Typed access to the `attentive.*` settings.

import * as vscode from 'vscode';
import type { EngineOptions, GenerateParams } from '../../protocol/engine';
import { settingDefault } from './settingDefaults';

export const SECTION = 'attentive';

export interface AttentiveSettings {
  /** "bundled" or a model folder path. */
  model: string;
  threads: number;
  maxNewTokens: number;
  temperature: number;
}

export function readSettings(): AttentiveSettings {
  const config = vscode.workspace.getConfiguration(SECTION);
  return {
    model: config.get<string>('model', settingDefault('attentive.model')) || settingDefault('attentive.model'),
    threads: config.get<number>('threads', settingDefault('attentive.threads')),
    maxNewTokens: config.get<number>('maxNewTokens', settingDefault('attentive.maxNewTokens')),
    temperature: config.get<number>('temperature', settingDefault('attentive.temperature')),
  };
}

export function engineOptions(settings: AttentiveSettings): EngineOptions {
  return settings.threads > 0 ? { threads: settings.threads } : {};
}

export function generationDefaults(settings: AttentiveSettings): Pick<GenerateParams, 'maxNewTokens' | 'temperature'> {
  return { maxNewTokens: settings.maxNewTokens, temperature: settings.temperature };
}

/** True when a change touches the settings that need the model reloaded. */
export function affectsModel(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration(`${SECTION}.model`) || event.affectsConfiguration(`${SECTION}.threads`);
}
