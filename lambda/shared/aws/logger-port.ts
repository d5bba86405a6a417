import type { Logger } from '@aws-lambda-powertools/logger';
import type { CoreLogger } from '../ports';

// Its own module, apart from telemetry.ts, so the receiver (which does not use middy) imports no
// middleware with it.
/**
 * Powertools Logger seen through the core's logging port. `beforeLine` runs before each line goes
 * to the logger (the receiver hands it the Lambda context there, only when a request logs);
 * with `debugLines: false`, debug calls stop here without reaching Powertools.
 */
export function coreLoggerOf(logger: Logger, options: { readonly beforeLine?: () => void; readonly debugLines?: boolean } = {}): CoreLogger {
  const { beforeLine, debugLines = true } = options;
  type Line = (message: string, extra?: Record<string, unknown>) => void;
  const line = (write: Line): Line =>
    beforeLine === undefined
      ? write
      : (message, extra) => {
          beforeLine();
          write(message, extra);
        };
  return {
    debug: debugLines ? line((message, extra) => (extra ? logger.debug(message, extra) : logger.debug(message))) : () => {},
    info: line((message, extra) => (extra ? logger.info(message, extra) : logger.info(message))),
    warn: line((message, extra) => (extra ? logger.warn(message, extra) : logger.warn(message))),
    error: line((message, extra) => (extra ? logger.error(message, extra) : logger.error(message))),
  };
}
