import type { SQSClient } from '@aws-sdk/client-sqs';
import { startDynalite, type Dynalite } from './dynalite';
import { startFauxqs, type Fauxqs } from './fauxqs';

/** DynamoDB's API (dynalite) and SQS (fauxqs) for a suite; read `db` and `sqs` inside tests. */
export interface AwsEmulators {
  readonly db: Dynalite;
  readonly sqs: SQSClient;
}

/**
 * Starts dynalite and the fauxqs SQS emulator before the suite and stops them after it. The SDK's
 * default DynamoDB client, the one the transformer handler builds itself, is pointed at dynalite
 * through the environment (restored afterwards), as AWS_ENDPOINT_URL_DYNAMODB would on any machine.
 */
export function useAwsEmulators(): AwsEmulators {
  let db: Dynalite | undefined;
  let fauxqs: Fauxqs | undefined;
  const savedEnv = { ...process.env };
  beforeAll(async () => {
    db = await startDynalite();
    Object.assign(process.env, { AWS_ENDPOINT_URL_DYNAMODB: db.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
    delete process.env.AWS_PROFILE;
    fauxqs = await startFauxqs();
  });
  afterAll(async () => {
    fauxqs?.stop();
    await db?.stop();
    process.env = savedEnv;
  });
  return {
    get db() {
      if (!db) throw new Error('the emulators start in beforeAll: read db inside a test or a hook');
      return db;
    },
    get sqs() {
      if (!fauxqs) throw new Error('the emulators start in beforeAll: read sqs inside a test or a hook');
      return fauxqs.sqs;
    },
  };
}
