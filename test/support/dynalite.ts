/**
 * A DynamoDB implementation for tests: dynalite (DynamoDB's API on an in-memory LevelDB, run in
 * this process on 127.0.0.1), with the deduplication table created exactly as the construct
 * synthesizes it (key schema, attributes, billing mode read from the template), so the
 * idempotency code meets real conditional writes, expression parsing and item encoding.
 * dynalite does not run TTL deletion; Powertools checks `expiration` itself on every write.
 * The summaries' table is created the way lib/summaries.ts creates it (pk + sk strings).
 */
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SummaryTableKey } from '../../lambda/shared/function-env';
import { DodoSlackNotifier } from '../../lib/dodo-slack-notifier';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- dynalite is CommonJS without types: require() with the one signature used here
const dynalite = require('dynalite') as (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => import('node:http').Server;

export interface Dynalite {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  /** Creates a table shaped like the construct's deduplication table, under a fresh name. */
  createDeduplicationTable(): Promise<string>;
  /** Creates a table shaped like the summaries' aggregate table under `name`. */
  createSummaryTable(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** The properties of a synthesized AWS::DynamoDB::Table that a test table copies. */
export interface SynthesizedTableProperties {
  readonly KeySchema: CreateTableCommandInput['KeySchema'];
  readonly AttributeDefinitions: CreateTableCommandInput['AttributeDefinitions'];
  readonly BillingMode: CreateTableCommandInput['BillingMode'];
  readonly TimeToLiveSpecification?: { readonly AttributeName: string };
}

/** The deduplication table's definition as `new DodoSlackNotifier(stack, 'Notifier')` synthesizes it. */
export function deduplicationTableDefinition(): { readonly input: Omit<CreateTableCommandInput, 'TableName'>; readonly ttlAttribute: string } {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'TableShape');
  new DodoSlackNotifier(stack, 'Notifier');
  const tables = Object.values(Template.fromStack(stack).findResources('AWS::DynamoDB::Table'));
  if (tables.length !== 1) throw new Error(`expected one table, found ${tables.length}`);
  const properties = tables[0].Properties as SynthesizedTableProperties;
  return {
    input: { KeySchema: properties.KeySchema, AttributeDefinitions: properties.AttributeDefinitions, BillingMode: properties.BillingMode },
    ttlAttribute: properties.TimeToLiveSpecification!.AttributeName,
  };
}

let tableCounter = 0;

/** dynalite listening on 127.0.0.1 (tables appear at once), an SDK client for it, and the stop of both. */
export async function listenDynalite(clientOptions: { readonly maxAttempts?: number } = {}): Promise<{ readonly endpoint: string; readonly client: DynamoDBClient; readonly stop: () => Promise<void> }> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, ...clientOptions });
  return {
    endpoint,
    client,
    stop: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function startDynalite(): Promise<Dynalite> {
  const { endpoint, client, stop } = await listenDynalite({ maxAttempts: 1 });
  const { input } = deduplicationTableDefinition();
  return {
    endpoint,
    client,
    stop,
    async createDeduplicationTable() {
      const TableName = `dedupe-${process.pid}-${++tableCounter}`;
      await client.send(new CreateTableCommand({ ...input, TableName }));
      return TableName;
    },
    async createSummaryTable(name) {
      await client.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: SummaryTableKey.partition, AttributeType: 'S' },
            { AttributeName: SummaryTableKey.sort, AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: SummaryTableKey.partition, KeyType: 'HASH' },
            { AttributeName: SummaryTableKey.sort, KeyType: 'RANGE' },
          ],
        }),
      );
    },
  };
}
