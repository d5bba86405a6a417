/**
 * Signature checks per second: ours (lambda/receiver/signature.ts) against the `standardwebhooks`
 * reference, on the same 2 KB bodies and headers, alternating rounds in one process.
 * Ops per CPU-second (process.cpuUsage), so other work on the machine does not skew the ratio.
 * Note: the reference's verify() also JSON.parses the body (its API returns the payload); ours
 * does not (the receiver parses later, once), so that parse is part of the reference's cost.
 */
import { Webhook } from 'standardwebhooks';
import { median, newSigningSecret, type Fixture } from './fixtures';
import { runOurChecks, signedInputs } from './signature-unit';

export interface VerifyResult {
  readonly opsPerSec: number;
  readonly referenceOpsPerSec: number;
  readonly bodies: number;
  /** Per round: ours / reference. */
  readonly ratios: number[];
}

export function measureVerify(fixtures: readonly Fixture[], rounds = 9, opsPerRound = 20_000): VerifyResult {
  const { secret, key } = newSigningSecret();
  const inputs = signedInputs(fixtures, key);
  const reference = new Webhook(secret);

  const ours = (count: number): void => runOurChecks(inputs, key, count);
  const theirs = (count: number): void => {
    for (let i = 0; i < count; i += 1) {
      const input = inputs[i % inputs.length];
      // Throws on a bad signature.
      reference.verify(input.rawBody, input.headers);
    }
  };
  const opsPerCpuSecond = (run: (count: number) => void): number => {
    const before = process.cpuUsage();
    run(opsPerRound);
    const used = process.cpuUsage(before);
    return opsPerRound / ((used.user + used.system) / 1e6);
  };

  // Warm-up (JIT, allocation sites) before the alternating measured rounds.
  ours(20_000);
  theirs(10_000);
  const oursRounds: number[] = [];
  const theirsRounds: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    oursRounds.push(opsPerCpuSecond(ours));
    theirsRounds.push(opsPerCpuSecond(theirs));
  }
  return {
    opsPerSec: median(oursRounds),
    referenceOpsPerSec: median(theirsRounds),
    bodies: inputs.length,
    ratios: oursRounds.map((ours, index) => ours / theirsRounds[index]),
  };
}
