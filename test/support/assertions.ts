/** Assertions shared by the tiers. */
import assert from './assert';
import { test } from '@jest/globals';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';

/**
 * A MockActivityEnvironment whose SDK logger keeps quiet: an activity that fails on purpose (the
 * tests of bad input) would otherwise print the SDK's "Activity failed" warning, stack and all.
 */
export function mockActivityEnv(info?: ConstructorParameters<typeof MockActivityEnvironment>[0]): MockActivityEnvironment {
  return new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });
}

/** Runs an activity function in a fresh MockActivityEnvironment (the unit tier). */
export async function runActivity<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return mockActivityEnv().run(fn, ...args);
}

/** Asserts a non-retryable ApplicationFailure of this type and message (exact, or matching a pattern). */
export async function nonRetryable(promise: Promise<unknown>, type: string, message: string | RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    assert.equal(err.type, type);
    assert.equal(err.nonRetryable, true);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

/** The ApplicationFailure a workflow run failed with; fails the test if the run succeeded. */
export async function workflowFailure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
    assert.ok(err.cause instanceof ApplicationFailure);
    return err.cause;
  }
  assert.fail('the run succeeded');
}

/**
 * `test`, or, when this environment cannot run it (`reason`), `test.skip` with the reason in its
 * name: Jest decides what it skips before a file runs, so the condition is known up front.
 */
export function testUnless(reason: string | undefined): typeof test {
  if (!reason) return test;
  const skipped = ((name: string, fn: Parameters<typeof test>[1], timeout?: number) => test.skip(`${name} (skipped: ${reason})`, fn, timeout)) as typeof test;
  return Object.assign(skipped, test);
}

/** A line for the suite's log (a figure, what a fault hit), without the source location Jest adds to console output. */
export function testNote(line: string): void {
  process.stdout.write(`${line}\n`);
}
