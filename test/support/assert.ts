/**
 * node:assert/strict, for Jest. Jest runs each test file in a vm context of its own, so an array
 * or object made by Node itself (readdirSync, a child's JSON, Buffer) has another realm's
 * prototype than a literal in the test, and deepStrictEqual would call equal values unequal.
 * The deep comparisons here first bring both sides into one realm with structuredClone (values
 * it cannot clone, such as functions, are compared as they are); every other assertion is
 * node:assert/strict's own.
 */
import strict from 'node:assert/strict';

const oneRealm = (value: unknown): unknown => {
  try {
    return structuredClone(value);
  } catch {
    return value;
  }
};

function deepStrictEqual<T>(actual: unknown, expected: T, message?: string | Error): asserts actual is T {
  strict.deepStrictEqual(oneRealm(actual), oneRealm(expected), message);
}

function notDeepStrictEqual(actual: unknown, expected: unknown, message?: string | Error): void {
  strict.notDeepStrictEqual(oneRealm(actual), oneRealm(expected), message);
}

const assert: typeof strict = Object.assign((value: unknown, message?: string | Error) => strict.ok(value, message), strict, {
  deepEqual: deepStrictEqual,
  deepStrictEqual,
  notDeepEqual: notDeepStrictEqual,
  notDeepStrictEqual,
}) as typeof strict;

export default assert;
