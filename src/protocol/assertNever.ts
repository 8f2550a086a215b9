// The exhaustiveness check every switch over a discriminated union ends with: a new case is a type error there.

export function assertNever(value: never, what = 'value'): never {
  throw new Error(`Unexpected ${what}: ${JSON.stringify(value)}`);
}

/**
 * The default of a validator's switch over message types: the type checker proves every known type has its case, and
 * an unknown type (from an untrusted page) is rejected as null rather than thrown.
 */
export function rejectUnknown(_type: never): null {
  return null;
}
