/**
 * The unit of the CPU-per-event ratios (issue 17): one `verifyWebhook` of a 2 KB body, timed inside
 * the harness process between its measured rounds, so the handler's cost and the unit are measured
 * side by side on the same CPU at the same moment. A machine twice as slow doubles both.
 */
import { verifyWebhook } from '../../lambda/receiver/signature';
import { BODY_BYTES, newSigningSecret, padBody, signedHeaders, type Fixture } from './fixtures';

/** Checks per timing: enough CPU time (~20 ms) for process.cpuUsage's microsecond resolution. */
const CHECKS_PER_TIMING = 4_000;

/** Returns a function that times CHECKS_PER_TIMING signature checks and answers CPU microseconds per check. */
export function signatureCheckTimer(fixtures: readonly Fixture[]): () => number {
  const { key } = newSigningSecret();
  const nowSeconds = Math.floor(Date.now() / 1000);
  const inputs = fixtures.map((fixture) => {
    const body = padBody(fixture.body, BODY_BYTES);
    return { rawBody: Buffer.from(body, 'utf8'), headers: signedHeaders(key, body, undefined, nowSeconds) };
  });
  const keys = [key];
  const run = (count: number): void => {
    for (let i = 0; i < count; i += 1) {
      const input = inputs[i % inputs.length];
      const result = verifyWebhook({ rawBody: input.rawBody, headers: input.headers, keys, toleranceSeconds: 300, nowSeconds: Math.floor(Date.now() / 1000) });
      if (!result.ok) throw new Error(`verifyWebhook rejected a valid signature: ${result.reason}`);
    }
  };
  run(CHECKS_PER_TIMING); // JIT warm-up
  return () => {
    const before = process.cpuUsage();
    run(CHECKS_PER_TIMING);
    const used = process.cpuUsage(before);
    return (used.user + used.system) / CHECKS_PER_TIMING;
  };
}
