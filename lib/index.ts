/** Public API of the `dodo-slack-notifier` library. */
export { DodoSlackNotifier, DEFAULT_ROUTE_ID, TRANSFORMER_MAX_CONCURRENCY } from './dodo-slack-notifier';
export type {
  DodoSlackNotifierProps,
  DodoSlackNotifierAlarms,
  DodoSlackRoute,
  DodoSlackThrottle,
} from './dodo-slack-notifier';
export { DodoSlackNotifierStack } from './dodo-slack-notifier-stack';
export type { DodoSlackNotifierStackProps } from './dodo-slack-notifier-stack';
export { Transformation } from './transformation';
export type {
  DodoWebhookEvent,
  TypedTransform,
  TypedTransformContext,
  UserCodeTransformationOptions,
} from './transformation';
export type { SlackMessage } from '../lambda/core/contracts';
export type { BuiltinTemplateOptions, RouteConfig } from '../lambda/core/contracts';
export { METRICS_NAMESPACE, MetricName, SECRET_PLACEHOLDER, WEBHOOK_PATH } from '../lambda/core/contracts';
