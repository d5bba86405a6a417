import { parseServeOptions } from '../../bin/dodo-slack';
import { Defaults } from '../../lambda/shared/defaults';

const io = { stdout: () => undefined, stderr: () => undefined, env: { DODO_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' } };
const options = (...args: string[]) => {
  const parsed = parseServeOptions(args, io);
  if (parsed.help) throw new Error('help');
  return parsed.options;
};

describe('serve --rollup-after and --never-fold', () => {
  test('default, seconds, 0 and off', () => {
    expect(options().rollupAfterSeconds).toBe(Defaults.rollupAfterSeconds);
    expect(options('--rollup-after', '5').rollupAfterSeconds).toBe(5);
    expect(options('--rollup-after', '0').rollupAfterSeconds).toBe(0);
    expect(options('--rollup-after', 'off').rollupAfterSeconds).toBe(0);
  });
  test('a value that is not seconds is a usage error naming the flag', () => {
    expect(() => options('--rollup-after', 'soon')).toThrow(/--rollup-after must be a number of seconds from 0 to 86400, or "off", got "soon"/);
    expect(() => options('--rollup-after', '-3')).toThrow(/--rollup-after/);
  });
  test('--never-fold takes comma-separated globs, checked like --events', () => {
    expect(options('--never-fold', 'refund.*, subscription.on_hold').neverFold).toEqual(['refund.*', 'subscription.on_hold']);
    expect(options().neverFold).toBeUndefined();
    expect(() => options('--never-fold', 'refund succeeded')).toThrow(/--never-fold: event glob "refund succeeded"/);
  });
});
