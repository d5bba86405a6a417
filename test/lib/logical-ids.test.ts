/**
 * The logical IDs of every stateful resource, pinned as literal strings.
 *
 * CloudFormation identifies a resource by its logical ID. If one of these changes (a construct
 * renamed or moved in the tree, a refactoring that changes a scope), the next deploy creates a new
 * resource and deletes the old one: the queue and the dead-letter queue lose the events waiting in
 * them, the deduplication table forgets delivered webhook ids (Dodo's retries post twice), the
 * secrets lose the signing key and Slack URL an operator set, the topic loses its subscriptions.
 * So a failure here is not a test to update: keep the old IDs (construct ids, tree) unless the
 * replacement is intended, and then say so in the release notes.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../lib/app-config';
import { DodoSlackNotifier } from '../../lib/dodo-slack-notifier';
import { testApp } from './helpers';

const STATEFUL_TYPES = ['AWS::SQS::Queue', 'AWS::DynamoDB::Table', 'AWS::SecretsManager::Secret', 'AWS::SNS::Topic'] as const;

/** Logical IDs of the stateful resources in a template, sorted, by resource type. */
function statefulLogicalIds(template: Template): Record<string, string[]> {
  return Object.fromEntries(STATEFUL_TYPES.map((type) => [type, Object.keys(template.findResources(type)).sort()]));
}

/** What `new DodoSlackNotifier(scope, 'Notifier')` creates with no props, wherever the stack is. */
const NOTIFIER_DEFAULTS = {
  'AWS::SQS::Queue': ['NotifierDeadLetterQueueB9B042D4', 'NotifierQueueC94A553E'],
  'AWS::DynamoDB::Table': ['NotifierDeduplicationTableA8BA8E02'],
  'AWS::SecretsManager::Secret': ['NotifierSigningSecret5CAA449E', 'NotifierSlackWebhookSecret7C60F2DF'],
  'AWS::SNS::Topic': ['NotifierAlarmTopic2FDBDCA2'],
};

test('the deployable stack (bin/app.ts, no context) keeps the logical IDs of its stateful resources', () => {
  const template = Template.fromStack(buildApp(testApp()));
  expect(statefulLogicalIds(template)).toEqual(NOTIFIER_DEFAULTS);
});

test('a bare new DodoSlackNotifier(stack, "Notifier") keeps the logical IDs of its stateful resources', () => {
  const stack = new Stack(testApp(), 'UserStack');
  new DodoSlackNotifier(stack, 'Notifier');
  expect(statefulLogicalIds(Template.fromStack(stack))).toEqual(NOTIFIER_DEFAULTS);
});

test('with summaries, the aggregate table keeps its logical ID (replacing it would lose the history the summaries compare against)', () => {
  const stack = new Stack(testApp(), 'UserStack');
  new DodoSlackNotifier(stack, 'Notifier', { summaries: { daily: { hour: 9 } } });
  expect(statefulLogicalIds(Template.fromStack(stack))['AWS::DynamoDB::Table']).toEqual(['NotifierDeduplicationTableA8BA8E02', 'NotifierSummariesTableF61FC831']);
});
