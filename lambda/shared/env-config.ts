import { describeLimit, withinLimit, type Limit } from './limits';

/**
 * Reads a function's configuration from the environment the construct sets, collecting every
 * problem, so a misconfigured function fails once with an error that names all of them.
 */
export class EnvConfigReader {
  readonly problems: string[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** The variable's value; an empty or missing one is a problem. */
  required(name: string): string {
    const value = this.env[name];
    if (!value) this.problems.push(`${name} is not set`);
    return value ?? '';
  }

  /** The variable's value, `undefined` when missing or empty. */
  optional(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value === '' ? undefined : value;
  }

  /** A number, `fallback` when the variable is not set; `expected` names the rule it breaks. */
  number(name: string, fallback: number, isValid: (value: number) => boolean, expected: string): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!isValid(value)) this.problems.push(`${name} must be ${expected}, got "${raw}"`);
    return value;
  }

  /** A number within `limit` (lambda/shared/limits.ts), `fallback` when the variable is not set. */
  limited(name: string, fallback: number, limit: Limit): number {
    return this.number(name, fallback, (value) => withinLimit(limit, value), describeLimit(limit));
  }

  /** Throws `${what}: problem; problem` when anything was wrong. */
  throwIfProblems(what: string): void {
    if (this.problems.length > 0) throw new Error(`${what}: ${this.problems.join('; ')}`);
  }
}
