/**
 * Turns a route's {@link TransformationSpec} into a {@link Transform}: the built-in templates, or
 * user code (dashboard-style or compiled typed modules) run by the sandboxed runner. Every result is
 * checked with validateSlackMessage, so nothing that Slack would reject, and no raw Dodo payload,
 * is ever posted: such an event is a TransformationError (dead-lettered with the reason).
 */
import type { CoreLogger } from '../shared/ports';
import type { SlackMessage, Transform, TransformationSpec, TransformInput, TransformOutcome } from '../shared/transformation';
import { TransformationError, TransformationUnavailableError } from '../shared/errors';
import { omit } from '../shared/omit';
import { promiseOf } from '../shared/promise';
import { validateSlackMessage } from '../messages/slack-limits';
import { compileUserCode, type UserCodeResult, type UserCodeRunner } from '../sandbox/runner';
import { embeddedUserCode, type UserCodeRegistry } from '../sandbox/registry';
import { renderBuiltinMessage } from '../messages/templates';

export interface CreateTransformOptions {
  /** Receives user code's console output. @default - dropped */
  readonly logger?: CoreLogger;
  /** After user code failed to load, how long to wait before trying again. @default 30_000 */
  readonly reloadIntervalMs?: number;
  /**
   * Throw the load error (UserCodeLoadError, with file and line) instead of retrying the load
   * later: for the workbench, which says so at start. @default false
   */
  readonly failOnLoadError?: boolean;
  readonly now?: () => number;
}

/**
 * The transform of one route. Unless `failOnLoadError`, never throws: user code that cannot be
 * loaded (missing from the bundle, fails at cold start) makes every event of that route a
 * TransformationError, so other routes keep working.
 */
export function createTransform(
  spec: TransformationSpec,
  registry: UserCodeRegistry = embeddedUserCode(),
  options: CreateTransformOptions = {},
): Transform {
  if (spec.kind === 'builtin') return createBuiltinTransform(spec.options);

  const source = registry.get(spec.codeId);
  if (source === undefined) {
    return failingTransform(`user code "${spec.codeId}" is not embedded in this transformer bundle (redeploy the stack)`);
  }
  const load = () => compileUserCode(source, userCodeFilename(source, spec.codeId), { timeoutMs: spec.timeoutMs, logger: options.logger });
  try {
    return transformFromRunner(load());
  } catch (error) {
    if (options.failOnLoadError === true) throw error;
    return reloadingTransform(spec.codeId, load, error, options);
  }
}

/**
 * User code that passed the synth-time check but failed to load here: every event of the route is
 * retried (TransformationUnavailableError), and the load is tried again at most once per
 * `reloadIntervalMs`, so the instance recovers without being recycled.
 */
function reloadingTransform(codeId: string, load: () => UserCodeRunner, firstError: unknown, options: CreateTransformOptions): Transform {
  const reloadIntervalMs = options.reloadIntervalMs ?? 30_000;
  const now = options.now ?? Date.now;
  let loaded: Transform | undefined;
  let lastError = firstError;
  let lastAttemptAt = now();
  return async (input) => {
    if (loaded === undefined && now() - lastAttemptAt >= reloadIntervalMs) {
      lastAttemptAt = now();
      try {
        loaded = transformFromRunner(load());
      } catch (error) {
        lastError = error;
      }
    }
    if (loaded !== undefined) return loaded(input);
    throw new TransformationUnavailableError(
      `user code "${codeId}" could not be loaded in this instance (retrying): ${lastError instanceof Error ? lastError.message : String(lastError)}`,
    );
  };
}

/**
 * Dashboard-style code (`function handler(webhook) { … }`) as a Transform, for the local workbench.
 * Throws UserCodeLoadError (with file:line) when the code does not load.
 */
export function createTransformFromSource(
  source: string,
  filename: string,
  options: { readonly timeoutMs?: number; readonly logger?: CoreLogger } = {},
): UserCodeTransform {
  return transformFromRunner(compileUserCode(source, filename, options));
}

/** The name stack traces use for embedded code: its `//# sourceURL=` comment, else the code id. */
export function userCodeFilename(source: string, fallback: string): string {
  const match = /\/\/# sourceURL=([^\s]+)\s*$/.exec(source);
  return match?.[1] ?? fallback;
}

function createBuiltinTransform(options: Extract<TransformationSpec, { kind: 'builtin' }>['options']): Transform {
  // Synchronous work behind the async Transform: a template that throws rejects, as user code's failures do.
  return (input) =>
    promiseOf((): TransformOutcome => {
      let message: SlackMessage;
      try {
        message = renderBuiltinMessage(input.envelope, options, input.names);
      } catch (error) {
        throw new TransformationError(
          `built-in template threw on ${input.eventType}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      const problems = validateSlackMessage(message);
      if (problems.length > 0) {
        throw new TransformationError(`built-in template produced an invalid Slack message for ${input.eventType}: ${problems.join('; ')}`);
      }
      return { kind: 'message', message };
    });
}

function failingTransform(reason: string): Transform {
  return () => Promise.reject(new TransformationError(reason));
}

/** A transform running user code in its worker; `close()` ends the worker (optional: an idle worker never keeps the process alive). */
export type UserCodeTransform = Transform & { close(): Promise<void> };

function transformFromRunner(runner: UserCodeRunner): UserCodeTransform {
  return Object.assign(async (input: TransformInput) => interpretResult(await runner.run(input), input, runner.filename), {
    close: () => runner.close(),
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** A Dodo envelope (`{ business_id, type, timestamp, data }`), i.e. code that left the payload untouched. */
function looksLikeDodoEnvelope(value: Record<string, unknown>): boolean {
  return typeof value.type === 'string' && 'data' in value && ('business_id' in value || 'timestamp' in value);
}

/** Has the fields that make a Slack message (the Dodo envelope has none of them). */
function hasSlackContent(value: Record<string, unknown>): boolean {
  return 'text' in value || 'blocks' in value || 'attachments' in value;
}

/**
 * What the code's result means. Exported for the tests; the reasons are what operators read in
 * logs and dead letters, so each says what happened and what to change.
 */
export function interpretResult(result: UserCodeResult, input: TransformInput, filename: string): TransformOutcome {
  const name = `transformation ${filename}`;
  const eventType = input.eventType;
  switch (result.status) {
    case 'timed-out':
      throw new TransformationError(`${name} timed out after ${result.timeoutMs} ms on ${eventType}`);
    case 'threw':
      throw new TransformationError(
        `${name} threw on ${eventType}: ${result.message}${result.location !== undefined ? ` (at ${result.location})` : ''}`,
      );
    case 'never-settled':
      throw new TransformationError(
        `${name} returned a promise that never settled on ${eventType} (the sandbox has no timers or network to wait for)`,
      );
    case 'unserializable':
      throw new TransformationError(`${name} returned a value that is not JSON on ${eventType}: ${result.message}`);
    case 'crashed':
      throw new TransformationError(`${name} crashed on ${eventType}: ${result.message}`);
    case 'returned':
      break;
  }

  const webhook = result.value;
  if (webhook === undefined) {
    throw new TransformationError(
      `${name} returned nothing for ${eventType}; a dashboard handler must end with \`return webhook\`, a typed transform must return a Slack message or null`,
    );
  }
  if (webhook === null) return { kind: 'skip', reason: `${name} returned null for ${eventType}` };
  if (!isObject(webhook)) {
    throw new TransformationError(`${name} returned ${describeValue(webhook)} for ${eventType} instead of the webhook object`);
  }
  if (webhook.cancel === true) return { kind: 'skip', reason: `${name} set webhook.cancel = true for ${eventType}` };

  let payload = webhook.payload;
  if (payload === undefined || payload === null) {
    throw new TransformationError(`${name} returned a webhook without a payload for ${eventType}; set webhook.payload to a Slack message`);
  }
  if (typeof payload === 'string') {
    // Some dashboard code sets the payload to JSON text rather than an object; both mean the same body.
    try {
      payload = JSON.parse(payload) as unknown;
    } catch {
      throw new TransformationError(
        `${name} set webhook.payload to a string that is not JSON for ${eventType}; use an object such as { text: '…' }`,
      );
    }
  }
  if (isObject(payload) && looksLikeDodoEnvelope(payload) && hasSlackContent(payload)) {
    // Dashboard code that added the message to the Dodo body in place (`webhook.payload.text = …`):
    // Slack ignores the body's own fields, so the dashboard posts this. Post the message alone.
    payload = omit(payload, 'business_id', 'type', 'timestamp', 'data');
  }
  if (isObject(payload) && looksLikeDodoEnvelope(payload)) {
    throw new TransformationError(
      `${name} returned the raw Dodo payload for ${eventType}; its switch probably has no case for this event type (add one, or set webhook.cancel = true to skip it)`,
    );
  }
  const problems = validateSlackMessage(payload);
  if (problems.length > 0) {
    throw new TransformationError(`${name} returned an invalid Slack message for ${eventType}: ${problems.join('; ')}`);
  }
  return { kind: 'message', message: payload as SlackMessage };
}
