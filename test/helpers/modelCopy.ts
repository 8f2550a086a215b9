// A model folder copied to a temporary folder with one of its JSON files edited: a variant of a fixture for one test.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export function modelCopy<T = Record<string, unknown>>(from: string, jsonFile: string, edit: (json: T) => void): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-model-copy-'));
  fs.cpSync(from, folder, { recursive: true });
  const file = path.join(folder, jsonFile);
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  edit(json);
  fs.writeFileSync(file, JSON.stringify(json));
  return folder;
}
