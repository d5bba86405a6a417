/**
 * DynamoDB for the app-mode tests: dynalite (DynamoDB's API on an in-memory LevelDB, in this
 * process on 127.0.0.1), with the thread table created exactly as the construct synthesizes it
 * (key schema, attributes, billing mode read from the template), so the thread store meets real
 * conditional writes and item encoding. dynalite does not run TTL deletion; the store checks
 * `expiration` itself on every read and create.
 */
import { CreateTableCommand, type DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DodoSlackNotifier } from '../../lib/dodo-slack-notifier';
import { listenDynalite, type SynthesizedTableProperties } from './dynalite';


export interface ThreadDynalite {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  /** Creates a table shaped like the construct's thread table, under a fresh name. */
  createThreadTable(): Promise<string>;
  stop(): Promise<void>;
}

/** The thread table as a notifier with a bot-token route synthesizes it. */
export function threadTableDefinition(): Omit<CreateTableCommandInput, 'TableName'> {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'ThreadTableShape');
  new DodoSlackNotifier(stack, 'Notifier', { slackBotTokenSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Bot', 'bot'), slackChannelId: 'C0TESTCHAN' });
  const tables = Object.entries(Template.fromStack(stack).findResources('AWS::DynamoDB::Table')).filter(([id]) => id.startsWith('NotifierSlackThreads'));
  if (tables.length !== 1) throw new Error(`expected one thread table, found ${tables.length}`);
  const properties = tables[0][1].Properties as SynthesizedTableProperties;
  return { KeySchema: properties.KeySchema, AttributeDefinitions: properties.AttributeDefinitions, BillingMode: properties.BillingMode };
}

let tableCounter = 0;

export async function startThreadDynalite(): Promise<ThreadDynalite> {
  const { endpoint, client, stop } = await listenDynalite();
  const definition = threadTableDefinition();
  return {
    endpoint,
    client,
    stop,
    async createThreadTable() {
      const TableName = `threads-${process.pid}-${++tableCounter}`;
      await client.send(new CreateTableCommand({ ...definition, TableName }));
      return TableName;
    },
  };
}
