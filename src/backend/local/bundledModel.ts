// Where the bundled model lives: models/manifest.json names the default folder (relative to models/).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineError } from '../../protocol/engine';

/** The extension root, from a bundle in dist/ (or a source file two folders down, under vitest). */
export function extensionRoot(fromDir: string): string {
  let dir = fromDir;
  for (let i = 0; i < 4; i++) {
    if (fs.existsSync(path.join(dir, 'models', 'manifest.json'))) return dir;
    dir = path.dirname(dir);
  }
  throw new EngineError(`models/manifest.json not found above ${fromDir}`, 'model-not-found');
}

export function bundledModelFolder(root: string): string {
  const manifestPath = path.join(root, 'models', 'manifest.json');
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as { default?: unknown };
  if (typeof manifest.default !== 'string') throw new EngineError(`${manifestPath} names no default model`, 'model-invalid');
  return path.resolve(root, 'models', manifest.default);
}

/** `bundled` (or nothing) means the bundled model; anything else is a folder path. */
export function resolveModelFolder(choice: string | undefined, root: string): string {
  return !choice || choice === 'bundled' ? bundledModelFolder(root) : path.resolve(choice);
}
