// Cross-file context for inline completion: choosing snippets of other files (neighbourSnippets.ts) and putting them in
// the prompt in each family's format within a token budget (protocol/repoContext.ts), through the real engine.

import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileWindows, MIN_SIMILARITY, SNIPPET_LINES, identifiers, jaccard, queryWords, similarSnippets } from '../../src/extension/completion/neighbourSnippets';
import { NO_REPO_CONTEXT, fitRepoContext, repoFormatOf, repoFormatOfServerModel, repoPreamble, type ContextSnippet } from '../../src/protocol/repoContext';
import { LoadedModel } from '../../src/worker/engine';

const ROOT = path.resolve(__dirname, '../..');
const chars = (text: string) => text.length;

describe('choosing snippets of other files', () => {
  const geometry = ['import math', '', 'def area(radius):', '    return math.pi * radius ** 2', '', 'def circumference(radius):', '    return 2 * math.pi * radius'].join('\n');
  const unrelated = Array.from({ length: 60 }, (_, i) => `const value${i} = fetchJson(url${i}).then((body) => body.items);`).join('\n');

  it('measures similarity as Jaccard over identifier sets', () => {
    expect([...identifiers('def area(radius): return math.pi * radius')].sort()).toEqual(['area', 'def', 'math', 'pi', 'radius', 'return']);
    expect(jaccard(new Set(['a', 'b', 'c']), new Set(['b', 'c', 'd']))).toBe(0.5);
    expect(jaccard(new Set(), new Set(['a']))).toBe(0);
  });

  it('takes each file\'s most similar window, best file first, and leaves out files below the threshold', () => {
    const long = [...Array.from({ length: 40 }, (_, i) => `x${i} = ${i}`), geometry, ...Array.from({ length: 40 }, (_, i) => `y${i} = ${i}`)].join('\n');
    const files = [new FileWindows('web/client.js', unrelated), new FileWindows('shapes/geometry.py', long)];
    const query = queryWords('def sphere_volume(radius):\n    return 4 / 3 * math.pi * ');
    const snippets = similarSnippets(query, files, 3);
    expect(snippets.map((s) => s.path)).toEqual(['shapes/geometry.py']);
    // The window holding the functions, not the file's start.
    expect(snippets[0]!.text).toContain('def area(radius):');
    expect(snippets[0]!.text.split('\n').length).toBeLessThanOrEqual(SNIPPET_LINES);
    expect(jaccard(query, identifiers(unrelated))).toBeLessThan(MIN_SIMILARITY);
  });

  it('reads only the start of a huge file, and stays fast on ten open files', () => {
    const huge = 'alpha = beta\n'.repeat(200_000);
    const started = performance.now();
    const file = new FileWindows('huge.py', huge);
    expect(performance.now() - started).toBeLessThan(2_000);
    const files = Array.from({ length: 10 }, (_, i) => new FileWindows(`f${i}.py`, Array.from({ length: 3000 }, (_, l) => `def f${l}_${i}(a, b): return a * ${l} + b`).join('\n')));
    const query = queryWords('def g(a, b):\n    return f12_3(a, b) + f40_7(b, a)\n');
    const lookup = performance.now();
    similarSnippets(query, [...files, file], 3);
    // The request-time part: comparisons only (the windows were made beforehand).
    expect(performance.now() - lookup).toBeLessThan(50);
  });
});

describe('putting snippets in the prompt', () => {
  const snippets: ContextSnippet[] = [
    { path: 'lib/geometry.py', text: 'def area(radius):\n    return 3.14 * radius ** 2' },
    { path: 'lib/units.py', text: 'CM_PER_INCH = 2.54' },
  ];

  it('knows each family\'s repository tokens', () => {
    expect(repoFormatOf((t) => ['<|repo_name|>', '<|file_sep|>'].includes(t))).toBe('qwen');
    expect(repoFormatOf((t) => ['<repo_name>', '<file_sep>'].includes(t))).toBe('starcoder2');
    expect(repoFormatOf(() => false)).toBe('comments');
    expect(repoFormatOfServerModel('qwen', 'Qwen/Qwen2.5-Coder-7B')).toBe('qwen');
    expect(repoFormatOfServerModel('starcoder', 'bigcode/starcoder2-3b')).toBe('starcoder2');
    expect(repoFormatOfServerModel('starcoder', 'bigcode/starcoderbase-1b')).toBe('comments');
  });

  it('writes Qwen2.5-Coder\'s and StarCoder2\'s repository formats', () => {
    expect(repoPreamble('qwen', 'shapes', snippets, 'main.py')).toBe(
      '<|repo_name|>shapes\n<|file_sep|>lib/geometry.py\ndef area(radius):\n    return 3.14 * radius ** 2\n<|file_sep|>lib/units.py\nCM_PER_INCH = 2.54\n<|file_sep|>main.py\n',
    );
    expect(repoPreamble('starcoder2', 'shapes', snippets, 'main.py')).toBe(
      '<repo_name>shapes<file_sep>lib/geometry.py\ndef area(radius):\n    return 3.14 * radius ** 2<file_sep>lib/units.py\nCM_PER_INCH = 2.54<file_sep>main.py\n',
    );
  });

  it('comments snippets out in the language\'s syntax for models without repository tokens, and none where it has no line comment', () => {
    const fitted = fitRepoContext({ snippets, maxTokens: 1000, languageId: 'python', asComments: true }, 'comments', 'main.py', 1000, chars);
    expect(fitted.preamble).toBe('');
    expect(fitted.commented).toBe(
      '# Compare this snippet from lib/geometry.py:\n# def area(radius):\n#     return 3.14 * radius ** 2\n# Compare this snippet from lib/units.py:\n# CM_PER_INCH = 2.54\n',
    );
    expect(fitRepoContext({ snippets, maxTokens: 1000, languageId: 'typescript', asComments: true }, 'comments', 'a.ts', 1000, chars).commented).toMatch(/^\/\/ Compare this snippet from lib\/geometry\.py:\n\/\/ def area/);
    expect(fitRepoContext({ snippets, maxTokens: 1000, languageId: 'html', asComments: true }, 'comments', 'a.html', 1000, chars)).toBe(NO_REPO_CONTEXT);
  });

  it('keeps the snippets that fit the budget, skipping a large one for a smaller one after it', () => {
    const large = { path: 'big.py', text: 'x = 1\n'.repeat(100) };
    const fitted = fitRepoContext({ snippets: [large, snippets[1]!], maxTokens: 200, repoName: 'r' }, 'qwen', 'main.py', 200, chars);
    expect(fitted.paths).toEqual(['lib/units.py']);
    expect(fitted.preamble).toBe('<|repo_name|>r\n<|file_sep|>lib/units.py\nCM_PER_INCH = 2.54\n<|file_sep|>main.py\n');
    expect(fitRepoContext({ snippets, maxTokens: 10 }, 'qwen', 'main.py', 10, chars)).toBe(NO_REPO_CONTEXT);
  });
});

describe('the engine with context snippets (bundled model)', () => {
  let model: LoadedModel;
  beforeAll(async () => {
    model = await LoadedModel.load(path.join(ROOT, 'models', 'attentive-code-14m'));
  });
  afterAll(() => model.release());

  const snippets: ContextSnippet[] = [{ path: 'lib/geometry.py', text: 'def area(radius):\n    return 3.14 * radius ** 2' }];
  const code = { prefix: 'from lib.geometry import area\n\n\ndef total(radii):\n    return sum(', suffix: ')\n', maxNewTokens: 8, temperature: 0, fileName: 'main.py' };

  it('puts the snippets in as comments (our model has no repository tokens) and reports which', async () => {
    const result = await model.complete({ ...code, context: { snippets, maxTokens: 128, languageId: 'python', asComments: true } });
    expect(result.completionPrompt!.contextPaths).toEqual(['lib/geometry.py']);
    // 'auto' (asComments unset): a model without repository tokens gets none.
    expect((await model.complete({ ...code, context: { snippets, maxTokens: 128, languageId: 'python' } })).completionPrompt!.contextPaths).toEqual([]);
    const without = await model.complete(code);
    expect(without.completionPrompt!.contextPaths).toEqual([]);
  });

  it('never lets the snippets push out the code around the cursor: they get what the code leaves', async () => {
    const prefix = Array.from({ length: 400 }, (_, i) => `value_${i} = compute(${i})`).join('\n') + '\nresult = ';
    const tight = await model.complete({ prefix, suffix: '', maxNewTokens: 4, temperature: 0, maxPromptTokens: 100_000, context: { snippets, maxTokens: 128, languageId: 'python', asComments: true } });
    // The file alone fills the context: no snippet, and the same lines kept as without context.
    const plain = await model.complete({ prefix, suffix: '', maxNewTokens: 4, temperature: 0, maxPromptTokens: 100_000 });
    expect(tight.completionPrompt!.contextPaths).toEqual([]);
    expect(tight.completionPrompt!.prefixLinesDropped).toBe(plain.completionPrompt!.prefixLinesDropped);
  });
});
