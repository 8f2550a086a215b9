// The exhaustiveness check every switch over a discriminated union ends with: a new case is a type error there.

export function assertNever(value: never, what = 'value'): never {
  throw new Error(`Unexpected ${what}: ${JSON.stringify(value)}`);
}
