/**
 * A real DynamoDB implementation for tests: dynalite (in memory) on 127.0.0.1, with the summary
 * table created the way the construct creates it (pk + sk strings).
 */
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SummaryTableKey } from '../../lambda/shared/function-env';

export interface Dynalite {
  readonly client: DynamoDBClient;
  readonly endpoint: string;
  createSummaryTable(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startDynalite(): Promise<Dynalite> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require('dynalite') as (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => import('node:http').Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  return {
    client,
    endpoint,
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
    async stop() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
