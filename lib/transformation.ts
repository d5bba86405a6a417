import type { BuiltinTemplateOptions, TransformationSpec } from '../lambda/core/contracts';

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

/**
 * How events become Slack messages.
 *
 * - `Transformation.builtin(options)`: the built-in templates for every Dodo event type (the default).
 */
export abstract class Transformation {
  /** The built-in message templates for every Dodo event type. */
  static builtin(options: BuiltinTemplateOptions = {}): Transformation {
    return new BuiltinTransformation(options);
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
