// A model without a chat template (a completion-only export) still chats: the engine sends a plain "User:/Assistant:"
// transcript and ends the reply where the model starts the next "User:" line.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoadedModel } from '../../src/worker/engine';
import { PLAIN_CHAT_STOP, plainChatPrompt } from '../../src/worker/tokenizer';
import { modelCopy } from '../helpers/modelCopy';

const FIXTURE = path.resolve(__dirname, '../fixtures/models/gpt2-tiny');

describe('chat with a model that has no chat template', () => {
  let folder: string;
  let model: LoadedModel;
  beforeAll(async () => {
    folder = modelCopy(FIXTURE, 'tokenizer_config.json', (config) => {
      delete config['chat_template'];
    });
    model = await LoadedModel.load(folder, { threads: 1, reusePromptCache: false });
  });
  afterAll(async () => {
    await model.release();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('says so, and answers from the plain transcript, stopping at the next "User:"', async () => {
    expect(model.info().hasChatTemplate).toBe(false);
    const messages = [
      { role: 'system' as const, content: 'You write Python.' },
      { role: 'user' as const, content: 'Add two numbers.' },
    ];
    expect(plainChatPrompt(messages)).toBe('You write Python.\nUser: Add two numbers.\nAssistant:');
    const chat = await model.chat({ messages, maxNewTokens: 12, temperature: 0 });
    const plain = await model.generate({ prompt: plainChatPrompt(messages), maxNewTokens: 12, temperature: 0, stop: [PLAIN_CHAT_STOP] });
    expect(chat.text).toBe(plain.text);
    expect(chat.tokenIds).toEqual(plain.tokenIds);
    expect(chat.text.includes(PLAIN_CHAT_STOP)).toBe(false);
  });
});
