import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Duration } from 'aws-cdk-lib';
import type { UnwrapWebhookEvent } from 'dodopayments/resources/webhooks/webhooks';
import type { BuiltinTemplateOptions, SlackMessage, TransformationSpec } from '../lambda/shared/transformation';
import { Defaults } from '../lambda/shared/defaults';
import { Limits, withinLimit } from '../lambda/shared/limits';
import { checkUserCodeLoads } from '../lambda/sandbox/load-check';
import { compileTypedModule } from '../lambda/sandbox/typed-module';
import { embeddableSource } from '../lambda/sandbox/registry';

/**
 * What a transformation contributes to the transformer function: the serialisable spec (goes into
 * the function's ROUTES environment variable) and, for user code, the code to embed in the bundle.
 * @internal
 */
export interface BoundTransformation {
  readonly spec: TransformationSpec;
  /** JavaScript source keyed by `spec.codeId`, embedded into the transformer bundle at synth time. */
  readonly code?: { readonly codeId: string; readonly source: string };
}

/** Any Dodo webhook event, typed per event type by the `dodopayments` SDK (switch on `event.type`). */
export type DodoWebhookEvent = UnwrapWebhookEvent;

/** What a typed transform gets besides the event. */
export interface TypedTransformContext {
  /** The Standard Webhooks `webhook-id` of the delivery (the same for Dodo's retries of one event). */
  readonly webhookId: string;
}

/**
 * The function a typed transformation module exports as `transform` (or as its default export):
 * returns the Slack message for the event, or null to skip it. It may be async, but the sandbox has
 * no timers or network, so it cannot wait for anything outside itself.
 */
export type TypedTransform = (
  event: DodoWebhookEvent,
  context: TypedTransformContext,
) => SlackMessage | null | Promise<SlackMessage | null>;

/** Options of user-code transformations. */
export interface UserCodeTransformationOptions {
  /**
   * Time the code may take for one event; over it, the event is a transformation error.
   * @default Duration.millis(1000)
   */
  readonly timeout?: Duration;
}


/**
 * How events become Slack messages.
 *
 * - `Transformation.builtin(options)`: the built-in templates for every Dodo event type (the default).
 * - `Transformation.fromFile(path)` / `Transformation.fromInline(code)`: code written for the Dodo
 *   dashboard (`function handler(webhook) { … return webhook; }`), run unchanged.
 * - `Transformation.fromModule(path)`: a TypeScript or JavaScript module exporting a
 *   {@link TypedTransform} named `transform`, bundled with esbuild.
 *
 * User code is checked when the app synthesizes: a syntax error, a throw at the top level or a
 * missing `handler` / `transform` throws here, with the file and line.
 */
export abstract class Transformation {
  /** The built-in message templates for every Dodo event type. */
  static builtin(options: BuiltinTemplateOptions = {}): Transformation {
    return new BuiltinTransformation(options);
  }

  /** Dashboard-style code from a file: `function handler(webhook) { …; return webhook; }`. */
  static fromFile(filePath: string, options: UserCodeTransformationOptions = {}): Transformation {
    let source: string;
    try {
      source = fs.readFileSync(filePath, 'utf8');
    } catch (error) {
      throw new Error(`Transformation.fromFile: cannot read ${filePath}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
    }
    return new UserCodeTransformation(source, filePath, path.basename(filePath), options);
  }

  /** Dashboard-style code given as a string (the same form as {@link Transformation.fromFile}). */
  static fromInline(code: string, options: UserCodeTransformationOptions = {}): Transformation {
    return new UserCodeTransformation(code, 'inline transformation', 'inline-transformation.js', options);
  }

  /**
   * A TypeScript (or JavaScript) module exporting `transform: TypedTransform` (or a default export),
   * bundled with its imports by esbuild at synth time. esbuild only strips types: run `tsc` over
   * your module to type-check it.
   */
  static fromModule(modulePath: string, options: UserCodeTransformationOptions = {}): Transformation {
    return new UserCodeTransformation(compileTypedModule(modulePath), `${modulePath} (bundled)`, `${path.basename(modulePath)}.js`, options);
  }

  /**
   * Called by the construct once per route. `codeId` is unique within the transformer function.
   * @internal
   */
  abstract _bind(codeId: string): BoundTransformation;
}

class BuiltinTransformation extends Transformation {
  constructor(private readonly options: BuiltinTemplateOptions) {
    super();
  }

  _bind(): BoundTransformation {
    return { spec: { kind: 'builtin', options: this.options } };
  }
}

function timeoutMillis(timeout: Duration | undefined): number {
  if (timeout === undefined) return Defaults.userCodeTimeoutMs;
  const ms = timeout.toMilliseconds();
  if (!withinLimit(Limits.userCodeTimeoutMs, ms)) {
    throw new Error(`Transformation timeout must be ${Limits.userCodeTimeoutMs.min} ms..${Limits.userCodeTimeoutMs.max} ms, got ${ms} ms`);
  }
  return ms;
}

class UserCodeTransformation extends Transformation {
  private readonly timeoutMs: number;
  private readonly embeddedSource: string;

  /**
   * @param displayPath name in synth-time errors (the path the user gave)
   * @param runtimeName name in runtime reasons and stack traces (no directories of the build machine)
   */
  constructor(source: string, displayPath: string, runtimeName: string, options: UserCodeTransformationOptions) {
    super();
    this.timeoutMs = timeoutMillis(options.timeout);
    // Loads the code once now, in this thread, so a broken transformation fails `cdk synth`, not the first event.
    checkUserCodeLoads(source, displayPath, this.timeoutMs);
    this.embeddedSource = embeddableSource(source, runtimeName);
  }

  _bind(codeId: string): BoundTransformation {
    return {
      spec: { kind: 'code', codeId, timeoutMs: this.timeoutMs },
      code: { codeId, source: this.embeddedSource },
    };
  }
}
