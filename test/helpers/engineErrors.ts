// What the tests of failing calls share.

import { expect } from 'vitest';
import { EngineError } from '../../src/protocol/engine';

/** The rejection of `promise` as an EngineError (fails the test if it resolves or throws anything else). */
export async function failureOf(promise: Promise<unknown>): Promise<EngineError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EngineError);
  return error as EngineError;
}
