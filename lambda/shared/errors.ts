/** Error classes of the core. Messages never contain secret values (keys, Slack URLs). */

/** The webhook body is not a Dodo event (not JSON, no `type`, …). */
export class InvalidPayloadError extends Error {
  override name = 'InvalidPayloadError';
}

/**
 * A transformation failed for one event: user code threw, timed out, or returned something that is
 * not a valid Slack message. Never retried: the event goes to the dead-letter queue with `message`.
 */
export class TransformationError extends Error {
  override name = 'TransformationError';
}

/**
 * A route's user code passed `cdk synth` but could not be loaded in this function instance (its
 * worker did not start in time, it ran out of memory while loading). The event is not at fault:
 * it is retried like a Slack outage, and dead-lettered with this reason only at its last attempt.
 */
export class TransformationUnavailableError extends Error {
  override name = 'TransformationUnavailableError';
}

/** A secret holds the placeholder, or a value that cannot be used. `message` names the problem, never the value. */
export class SecretConfigurationError extends Error {
  override name = 'SecretConfigurationError';
  constructor(
    message: string,
    /** True while the secret still holds the construct's placeholder (operator has not set it yet). */
    readonly isPlaceholder = false,
  ) {
    super(message);
  }
}
