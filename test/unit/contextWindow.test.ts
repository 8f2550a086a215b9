import { describe, expect, it } from 'vitest';
import { fitPrompt } from '../../src/worker/contextWindow';

const ids = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('fitPrompt', () => {
  it('keeps a prompt that fits, capping new tokens to the room left', () => {
    expect(fitPrompt(ids(10), 0, 64, 20)).toEqual({ ids: ids(10), trimmed: 0, maxNewTokens: 20 });
  });

  it('trims the oldest tokens but keeps the pinned prefix and the newest text', () => {
    const fitted = fitPrompt(ids(100), 5, 64, 16);
    expect(fitted.ids.length).toBe(48);
    expect(fitted.ids.slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(fitted.ids.at(-1)).toBe(99);
    expect(fitted.ids[5]).toBe(100 - 43);
    expect(fitted.trimmed).toBe(52);
    expect(fitted.maxNewTokens).toBe(16);
  });

  it('reserves at most half the window for new tokens', () => {
    const fitted = fitPrompt(ids(100), 0, 64, 1000);
    expect(fitted.ids.length).toBe(32);
    expect(fitted.maxNewTokens).toBe(32);
  });

  it('refuses instead of trimming when asked to', () => {
    expect(() => fitPrompt(ids(100), 0, 64, 16, 'error')).toThrow(/does not fit the model's context of 64/);
  });

  it('refuses when the pinned prefix alone fills the window', () => {
    expect(() => fitPrompt(ids(100), 60, 64, 16)).toThrow(/leaves no room/);
  });
});
