import type { Logger } from '@aws-lambda-powertools/logger';
import type { CoreLogger } from '../ports';

/** Powertools Logger seen through the core's logging port. */
export function coreLoggerOf(logger: Logger): CoreLogger {
  return {
    debug: (message, extra) => (extra ? logger.debug(message, extra) : logger.debug(message)),
    info: (message, extra) => (extra ? logger.info(message, extra) : logger.info(message)),
    warn: (message, extra) => (extra ? logger.warn(message, extra) : logger.warn(message)),
    error: (message, extra) => (extra ? logger.error(message, extra) : logger.error(message)),
  };
}
