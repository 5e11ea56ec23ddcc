import { ApplicationFailure } from '@temporalio/common';
import { StepFailure } from '../domain/failures';

/**
 * The activity edge's one translation: a StepFailure a service threw becomes an ApplicationFailure
 * of its type (non-retryable unless the service said otherwise); anything else passes unchanged,
 * to be retried under the activity's policy.
 */
function asActivityFailure(error: unknown): unknown {
  if (!(error instanceof StepFailure)) return error;
  const failure = ApplicationFailure.create({ type: error.type, message: error.message, nonRetryable: error.nonRetryable });
  // The Web UI shows where the service failed, not this translation.
  failure.stack = error.stack;
  return failure;
}

/** Every function of `activities`, with its StepFailures translated (asActivityFailure). */
export function withActivityFailures<T extends object>(activities: T): T {
  return Object.fromEntries(
    Object.entries(activities).map(([name, activity]) => [
      name,
      async (...args: unknown[]) => {
        try {
          return await (activity as (...args: unknown[]) => Promise<unknown>)(...args);
        } catch (error) {
          throw asActivityFailure(error);
        }
      },
    ]),
  ) as T;
}
