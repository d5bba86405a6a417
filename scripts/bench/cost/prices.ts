/**
 * AWS list prices the cost model multiplies its counts by: us-east-1 (N. Virginia), on-demand,
 * without the free tier (a budget should not depend on what else the account runs). Update a
 * price here when AWS changes it; every figure of `npm run bench`'s cost part follows.
 *
 * Source: the AWS pricing pages named on each line, as published in 2025 (the date each was last
 * read is `PRICES_AS_OF`). The bench has no network access and does not check them; compare with
 * the pages before relying on a figure.
 */
export const PRICES_AS_OF = '2025-10';
export const PRICES_REGION = 'us-east-1';

export const Prices = {
  /** https://aws.amazon.com/api-gateway/pricing/ REST API, first 333 million requests a month. */
  apiGatewayRestPerMillionRequests: 3.5,
  /** Same page, HTTP API, first 300 million requests (512 KB metered units); only for the comparison. */
  apiGatewayHttpPerMillionRequests: 1.0,
  /** https://aws.amazon.com/lambda/pricing/ requests. Function URLs are free beyond this. */
  lambdaPerMillionRequests: 0.2,
  /** Same page, duration, first 6 billion GB-seconds a month. */
  lambdaPerGbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 },
  /** https://aws.amazon.com/sqs/pricing/ standard queue; every 64 KB chunk of a request counts as one request. */
  sqsPerMillionRequests: 0.4,
  /** https://aws.amazon.com/dynamodb/pricing/on-demand/ (after the November 2024 price cut). */
  dynamodbPerMillionWriteRequestUnits: 0.625,
  dynamodbPerMillionReadRequestUnits: 0.125,
  /** https://aws.amazon.com/secrets-manager/pricing/ */
  secretPerMonth: 0.4,
  secretsManagerPer10kCalls: 0.05,
  /** https://aws.amazon.com/kms/pricing/ customer managed key (rotation on: the key's first two rotations add 1 USD each, not counted). */
  kmsKeyPerMonth: 1.0,
  kmsPer10kRequests: 0.03,
  /** https://aws.amazon.com/cloudwatch/pricing/ logs ingested (standard class) and archived. */
  logsIngestedPerGb: 0.5,
  logsStoredPerGbMonth: 0.03,
  /** Same page: custom metrics (EMF), first 10,000, prorated by the hour a metric is sent in. */
  customMetricPerMonth: 0.3,
  /** Same page: standard-resolution alarm, per metric it watches. */
  alarmMetricPerMonth: 0.1,
  /** Same page: a dashboard (the first 3 of an account are free; not counted here). */
  dashboardPerMonth: 3.0,
  /** https://aws.amazon.com/xray/pricing/ traces recorded. */
  xrayPerMillionTraces: 5.0,
  /** https://aws.amazon.com/eventbridge/pricing/ EventBridge Scheduler invocations (14 million a month free). */
  schedulerPerMillionInvocations: 1.0,
} as const;
