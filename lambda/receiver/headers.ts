/**
 * The one header normalisation of the receiver, for every transport: the API Gateway adapter
 * (handler.ts, `headers` + `multiValueHeaders`) and `dodo-slack serve` (Node's
 * `request.headersDistinct`) hand their headers to {@link normaliseHeaders}, so a request gets the
 * same answer from both.
 */

/** Header name → value(s), as transports give them: any case, a name possibly spelled several ways. */
export type HeaderSource = Readonly<Record<string, string | readonly string[] | undefined>> | null | undefined;

/**
 * Header names lower-cased; the values of a header sent several times (several lines, or several
 * spellings of its name) joined with a single space, in the order given. A Standard Webhooks
 * `webhook-signature` header is a space-separated list, so two signature lines read as one list
 * whichever of them holds the valid signature. (Node's `request.headers` joins with `, `, which
 * would glue a comma to every signature but the last.)
 *
 * With several sources, each name is taken from the first source that has a value for it, the
 * later sources only filling in names the earlier ones lack: API Gateway's `multiValueHeaders`
 * holds every line of a header, its `headers` only the last one, so the Lambda adapter passes
 * `(multiValueHeaders, headers)`. Empty values add nothing to a join; a header whose only values
 * are empty is kept as `''` (the receiver reads that as missing).
 */
export function normaliseHeaders(...sources: readonly HeaderSource[]): Record<string, string> {
  const joined = new Map<string, string[]>();
  for (const source of sources) {
    if (source === null || source === undefined) continue;
    const fromThisSource = new Map<string, string[]>();
    for (const [name, value] of Object.entries(source)) {
      if (value === undefined) continue;
      const values = typeof value === 'string' ? [value] : value;
      if (values.length === 0) continue;
      const key = name.toLowerCase();
      if (joined.has(key)) continue; // an earlier source had it
      let list = fromThisSource.get(key);
      if (list === undefined) fromThisSource.set(key, (list = []));
      list.push(...values);
    }
    for (const [key, values] of fromThisSource) joined.set(key, values);
  }
  // Object.fromEntries defines own properties, so a header named `__proto__` cannot touch the prototype.
  return Object.fromEntries([...joined].map(([key, values]) => [key, values.filter((value) => value !== '').join(' ')]));
}
