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
export type { SlackMessage } from '../lambda/shared/transformation';
export type { BuiltinTemplateOptions } from '../lambda/shared/transformation';
export type { RouteConfig } from '../lambda/shared/function-env';
export { METRICS_NAMESPACE, MetricName } from '../lambda/shared/metrics';
export { SECRET_PLACEHOLDER } from '../lambda/shared/function-env';
export { WEBHOOK_PATH } from '../lambda/shared/webhook';
