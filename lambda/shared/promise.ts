/**
 * An asynchronous port implemented by synchronous code (an in-memory value, a SQLite statement): the
 * work runs at once, as the body of an async function would, and its result resolves the promise.
 * What it throws rejects the promise instead of escaping the call, so callers see the same outcome
 * as from an async function, without an `async` that awaits nothing.
 */
export function promiseOf<T>(work: () => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(work()));
}
