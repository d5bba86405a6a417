/**
 * Public API of the `dodo-slack-notifier` library: the construct, the stack, Transformation, and
 * the types their signatures use. Nothing else: whatever is exported here is a promise to users.
 */
export { DodoSlackNotifier } from './dodo-slack-notifier';
export type { DodoSlackNotifierProps, DodoSlackRoute } from './props';
export type { DodoSlackNotifierAlarms } from './monitoring';
export type { DodoSlackSummaries, NotifierSummaries, SummaryTime, SummaryWeekday, WeeklySummaryTime } from './summaries';
export { DodoSlackNotifierStack } from './dodo-slack-notifier-stack';
export type { DodoSlackNotifierStackProps } from './dodo-slack-notifier-stack';
export { Transformation } from './transformation';
export type {
  DodoWebhookEvent,
  TypedTransform,
  TypedTransformContext,
  UserCodeTransformationOptions,
} from './transformation';
export type { BuiltinTemplateOptions, SlackMessage } from '../lambda/shared/transformation';
