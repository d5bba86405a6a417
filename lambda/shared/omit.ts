/**
 * A shallow copy of `value` without the properties `keys`: what `const { key: _, ...rest } = value`
 * gives, without a variable for each dropped value that nothing reads.
 */
export function omit<T extends object, K extends keyof T>(value: T, ...keys: readonly K[]): Omit<T, K> {
  const copy: Partial<Record<keyof T, unknown>> = { ...value };
  for (const key of keys) delete copy[key];
  return copy as Omit<T, K>;
}
