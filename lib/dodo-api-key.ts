import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Token } from 'aws-cdk-lib';
import { TransformerEnv } from '../lambda/shared/function-env';

/**
 * Lets a function read the Dodo API key (names for the IDs its messages show): the secret's ARN and
 * the API URL in its environment, read access to that one secret. Only the transformer and the
 * summary function get it.
 */
export function grantDodoApiKey(fn: lambda.Function, secret: secretsmanager.ISecret | undefined, apiUrl: string | undefined): void {
  if (secret === undefined) return;
  // The summary function's variables have the same names (SummariesEnv).
  fn.addEnvironment(TransformerEnv.DodoApiKeySecretArn, secret.secretArn);
  if (apiUrl !== undefined) fn.addEnvironment(TransformerEnv.DodoApiUrl, apiUrl);
  secret.grantRead(fn);
}

/** `dodoApiUrl` is an https URL, and only set with `dodoApiKeySecret`; throws naming the prop. */
export function checkDodoApiProps(secret: secretsmanager.ISecret | undefined, apiUrl: string | undefined): void {
  if (apiUrl === undefined || Token.isUnresolved(apiUrl)) return;
  if (secret === undefined) throw new Error('DodoSlackNotifier: dodoApiUrl applies only with dodoApiKeySecret');
  let protocol: string;
  try {
    protocol = new URL(apiUrl).protocol;
  } catch {
    throw new Error(`DodoSlackNotifier: dodoApiUrl must be an https URL (the API key travels with each request), got "${apiUrl}"`);
  }
  // The key travels with each request: never in clear text from a Lambda.
  if (protocol !== 'https:') throw new Error(`DodoSlackNotifier: dodoApiUrl must be an https URL (the API key travels with each request), got "${apiUrl}"`);
}
