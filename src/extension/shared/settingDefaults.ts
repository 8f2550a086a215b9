// Every setting's default lives in one place, package.json's contributes.configuration (what the Settings editor
// shows); code reads it from here, also where VS Code is not running (the completion service in tests and benchmarks).

import manifest from '../../../package.json';

type Properties = typeof manifest.contributes.configuration.properties;

export function settingDefault<K extends keyof Properties>(key: K): Properties[K]['default'] {
  return manifest.contributes.configuration.properties[key].default;
}
