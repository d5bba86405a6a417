/**
 * The one header normalisation of the receiver, for every transport: the API Gateway adapter
 * (handler.ts, `headers` + `multiValueHeaders`) and `dodo-slack serve` (Node's
 * `request.headersDistinct`) hand their headers to {@link normaliseHeaders}, so a request gets the
 * same answer from both.
 */

/** Header name → value(s), as transports give them: any case, a name possibly spelled several ways. */
export type HeaderSource = Readonly<Record<string, string | readonly string[] | undefined>> | null | undefined;

/** Header names seen so far, lower-cased (the same few dozen names arrive on every request). */
const LOWER_CASED = new Map<string, string>();
/** Bounded: a sender inventing names cannot grow it past this (it starts over when full). */
const MAX_CACHED_NAMES = 512;

function lowerCased(name: string): string {
  let lower = LOWER_CASED.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (LOWER_CASED.size >= MAX_CACHED_NAMES) LOWER_CASED.clear();
    LOWER_CASED.set(name, lower);
  }
  return lower;
}

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
  // Written for the hot path (one call per webhook): plain loops over null-prototype objects, no
  // Map per source and no spreads (that version cost more than a signature check per request). Objects
  // without a prototype while collecting, and an own property for a header named `__proto__` in the
  // answer, so no header name can reach a prototype.
  const values: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  const fromSource: Record<string, number> = Object.create(null) as Record<string, number>;
  for (let index = 0; index < sources.length; index += 1) {
    const source = sources[index];
    if (source === null || source === undefined) continue;
    for (const name of Object.keys(source)) {
      const value = source[name];
      if (value === undefined || (typeof value !== 'string' && value.length === 0)) continue;
      const key = lowerCased(name);
      const owner = fromSource[key];
      if (owner !== undefined && owner !== index) continue; // an earlier source had it
      fromSource[key] = index;
      const list = values[key] ?? (values[key] = []);
      if (typeof value === 'string') list.push(value);
      else for (const each of value) list.push(each);
    }
  }
  const headers: Record<string, string> = {};
  for (const key of Object.keys(values)) {
    const list = values[key];
    const value = list.length === 1 ? list[0] : list.filter((each) => each !== '').join(' ');
    if (key === '__proto__') Object.defineProperty(headers, key, { value, enumerable: true, writable: true, configurable: true });
    else headers[key] = value;
  }
  return headers;
}
