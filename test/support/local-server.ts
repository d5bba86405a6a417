import { join } from 'node:path';
import type { LocalServerOptions } from '../../lambda/local/server';

/**
 * Options of an in-process `serve` under test, in one place (adapt here when the engine's options
 * change): fast pacing, one attempt, a store in `workDir`, every printed line collected in `output`.
 */
export function testServerOptions(signingSecret: string, workDir: string, output: string[], extra: Partial<LocalServerOptions> = {}): LocalServerOptions {
  return {
    port: 0,
    host: '127.0.0.1',
    eventGlobs: ['*'],
    maxAttempts: 1,
    retryDelayMs: 10,
    ratePerSecond: 1000,
    burst: 100,
    dataDir: join(workDir, 'serve-data'),
    shutdownTimeoutMs: 2000,
    signingSecret,
    print: (text) => void output.push(text),
    printError: (text) => void output.push(text),
    ...extra,
  };
}
