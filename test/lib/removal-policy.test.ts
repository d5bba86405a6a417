/**
 * What survives when a resource leaves the stack (stack deleted, resource replaced): by default the
 * queues (the dead-letter queue holds the undelivered events), the deduplication table, the key
 * that encrypts it and the secrets an operator filled in; `removalPolicy` decides for all of them.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { synthNotifier } from './helpers';

const STATEFUL_TYPES = ['AWS::SQS::Queue', 'AWS::DynamoDB::Table', 'AWS::KMS::Key', 'AWS::SecretsManager::Secret'];

/** DeletionPolicy/UpdateReplacePolicy of every resource of the given types, by logical id. */
function policies(template: Template, types: readonly string[] = STATEFUL_TYPES): Record<string, [string, string]> {
  const resources = template.toJSON().Resources as Record<string, { Type: string; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;
  return Object.fromEntries(
    Object.entries(resources)
      .filter(([, resource]) => types.includes(resource.Type))
      .map(([id, resource]) => [id, [resource.DeletionPolicy ?? 'Delete', resource.UpdateReplacePolicy ?? 'Delete']]),
  );
}

test('by default the queues, the table, the key and the created secrets are retained', () => {
  const found = policies(synthNotifier().template);
  // Two queues, one table, one key, two secrets: all of them.
  expect(Object.keys(found)).toHaveLength(6);
  for (const [id, policy] of Object.entries(found)) {
    expect([id, policy]).toEqual([id, ['Retain', 'Retain']]);
  }
});

test('removalPolicy: DESTROY applies to each of them', () => {
  const found = policies(synthNotifier({ removalPolicy: RemovalPolicy.DESTROY }).template);
  expect(Object.keys(found)).toHaveLength(6);
  for (const [id, policy] of Object.entries(found)) {
    expect([id, policy]).toEqual([id, ['Delete', 'Delete']]);
  }
});

test('logs are not state: the log groups go with the stack whatever removalPolicy says', () => {
  const found = policies(synthNotifier().template, ['AWS::Logs::LogGroup']);
  expect(Object.values(found)).toEqual([
    ['Delete', 'Delete'],
    ['Delete', 'Delete'],
    ['Delete', 'Delete'],
  ]);
});

describe('with summaries, their aggregate table follows removalPolicy too', () => {
  const summaries = { daily: { hour: 9 } };
  test('retained by default', () => {
    const found = policies(synthNotifier({ summaries }).template, ['AWS::DynamoDB::Table']);
    expect(Object.keys(found)).toHaveLength(2);
    expect(Object.values(found)).toEqual([
      ['Retain', 'Retain'],
      ['Retain', 'Retain'],
    ]);
  });
  test('deleted with removalPolicy: DESTROY', () => {
    const found = policies(synthNotifier({ summaries, removalPolicy: RemovalPolicy.DESTROY }).template, ['AWS::DynamoDB::Table']);
    expect(Object.values(found)).toEqual([
      ['Delete', 'Delete'],
      ['Delete', 'Delete'],
    ]);
  });
});
