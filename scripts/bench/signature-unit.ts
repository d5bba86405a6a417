/**
 * One `verifyWebhook` of a 2 KB body, timed inside the harness process between its measured rounds:
 * `receiverCpuInSignatureChecks` and `transformerCpuInSignatureChecks`, CPU per event in checks.
 * A figure only, with no budget: the HMAC is hardware-accelerated on some CPUs and not on others
 * while the handlers' work is JavaScript, so the same code reads a different number of checks on
 * another machine. The budgets compare each handler with its minimal twin (minimal-twins.ts).
 */
import { verifyWebhook } from '../../lambda/receiver/signature';
import { BODY_BYTES, newSigningSecret, padBody, signedHeaders, type Fixture } from './fixtures';

/** Checks per timing: enough CPU time (~15 ms) for process.cpuUsage's microsecond resolution. */
const CHECKS_PER_TIMING = 4_000;

export interface SignedInput {
  readonly rawBody: Buffer;
  readonly headers: Record<string, string>;
}

/** Every fixture padded to a 2 KB body and signed now with `key`: the inputs of every signature-check measurement. */
export function signedInputs(fixtures: readonly Fixture[], key: Buffer): SignedInput[] {
  const nowSeconds = Math.floor(Date.now() / 1000);
  return fixtures.map((fixture) => {
    const body = padBody(fixture.body, BODY_BYTES);
    return { rawBody: Buffer.from(body, 'utf8'), headers: signedHeaders(key, body, undefined, nowSeconds) };
  });
}

/** Runs `count` of our checks over `inputs` in turn; throws if one rejects a valid signature. */
export function runOurChecks(inputs: readonly SignedInput[], key: Buffer, count: number): void {
  const keys = [{ bytes: key, mode: 'live' as const }];
  for (let i = 0; i < count; i += 1) {
    const input = inputs[i % inputs.length];
    const result = verifyWebhook({ rawBody: input.rawBody, headers: input.headers, keys, toleranceSeconds: 300, nowSeconds: Math.floor(Date.now() / 1000) });
    if (!result.ok) throw new Error(`verifyWebhook rejected a valid signature: ${result.reason}`);
  }
}

/** Returns a function that times CHECKS_PER_TIMING signature checks and answers CPU microseconds per check. */
export function signatureCheckTimer(fixtures: readonly Fixture[]): () => number {
  const { key } = newSigningSecret();
  const inputs = signedInputs(fixtures, key);
  runOurChecks(inputs, key, CHECKS_PER_TIMING); // JIT warm-up
  return () => {
    const before = process.cpuUsage();
    runOurChecks(inputs, key, CHECKS_PER_TIMING);
    const used = process.cpuUsage(before);
    return (used.user + used.system) / CHECKS_PER_TIMING;
  };
}
