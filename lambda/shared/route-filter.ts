/**
 * Route filters: conditions on a Dodo webhook's envelope (`business_id`, `type`, `timestamp`,
 * `data`) that decide whether a route takes an event.
 *
 * ## Semantics
 *
 * A filter is a JSON object. It holds when every one of its keys holds; `{}` always holds.
 *
 * **Keys.** A key is either a path or one of the combinators `$and`, `$or`, `$not` (which may sit
 * beside path keys; all must hold). A path is a dot-separated list of names from the envelope:
 * `type`, `data.total_amount`, `data.customer.email`. Paths have no array indices.
 *
 * **Values.** The value of a path key is one of:
 * - an operator object, whose keys all start with `$`: `{"$gte": 100, "$lt": 500}`. Every operator
 *   in it must hold, each on its own (the object is the `$and` of its operators; see arrays below);
 * - an object with no `$` keys: nested paths, the same as the dotted paths they spell
 *   (`{"data": {"currency": "USD"}}` is `{"data.currency": "USD"}`; `{"data": {}}` holds always).
 *   An object that mixes `$` keys and plain keys is an error;
 * - anything else (string, number, boolean, null, array): a literal, meaning `$eq` that literal.
 *   Deep equality of an object therefore needs `{"$eq": {...}}`.
 *
 * **Operators.**
 * - `$eq`, `$neq`: strict JSON equality (a number never equals a string: `2999` is not `"2999"`);
 *   objects and arrays compare deeply, object keys in any order.
 * - `$in`, `$nin`: an array of literals (string, number, boolean, null); the value equals one / none.
 * - `$gt`, `$gte`, `$lt`, `$lte`: a number or a string operand; they compare numbers with numbers and
 *   strings with strings (code-unit order, so ISO timestamps compare chronologically) and hold for
 *   no other pairing.
 * - `$startsWith`, `$endsWith`: a string operand; they hold only on strings.
 * - `$exist`: a boolean; whether the path has a value (see missing below).
 *
 * **Missing.** A path is missing where its value is `null`, where a name on it is absent, where it
 * continues past a value that is not an object, or where it runs through an empty array (an empty
 * array at the end of a path counts too: it has no element). On a missing path only
 * `{"$exist": false}`, `$neq` and `$nin` hold. So `{"data.discount_id": null}` and `$in: [null]`
 * never match: ask for `{"$exist": false}`.
 *
 * **Arrays: any element.** Where a path passes through an array, each element is followed on its
 * own and a condition holds when it holds for any element; arrays of arrays are flattened. This is
 * so for every operator, `$neq` and `$nin` included: "no element is X" is
 * `{"$not": {"path": "X"}}`. An element that is `null` or lacks the rest of the path is a missing
 * element: it satisfies `$neq`, `$nin` and `$exist: false` and nothing else, while an element that
 * has a value is tested as usual. So over a cart `[{"product_id": "a"}, {}]`, the path
 * `data.product_cart.product_id` meets `{"$neq": "a"}` and `{"$exist": false}` (through the second
 * element) and also `{"$eq": "a"}` and `{"$exist": true}` (through the first).
 * Where the value at the end of a path is an array, likewise any element (`{"$exist": true}` then
 * means a non-null element), except that `$eq` and `$neq` with an array literal compare the whole
 * array: `{"data.subscription_ids": ["sub_1"]}` is that exact list, and `[]` matches an empty one.
 * Each operator and each dotted path is judged on its own: the operators of
 * `{"$gte": 2, "$lte": 5}` may be met by different elements, as may the two paths of
 * `{"data.product_cart": {"product_id": "a", "quantity": 2}}`.
 *
 * **Combinators.** `$and` and `$or` take an array of filters; `$and: []` holds and `$or: []` holds
 * for no event (the JSON-logic convention: an empty disjunction is false). `$not` takes one filter
 * and holds when that filter does not.
 *
 * `filterProblems` reports every fault of a filter as written; `compileFilter` turns a valid one
 * into a predicate (once: the tree is precompiled and paths split when compiled, and kept per
 * filter object, which must not change afterwards), and `explainFilter` says which condition
 * failed and what value it found.
 */

import { canonicalEventType, compileEventGlobs } from './event-glob';
import { KNOWN_EVENT_PATHS } from './event-paths';
import { editDistance } from './edit-distance';

/** A filter as written in the configuration: JSON whose keys are paths or `$and`/`$or`/`$not`. */
export type RouteFilter = { readonly [key: string]: unknown };

/** A fault of a filter: where it is (a JSON path such as `routes[1].filter.$and[0].data.currency`) and what is wrong. */
export interface FilterProblem {
  readonly path: string;
  readonly message: string;
}

const COMBINATORS = ['$and', '$or', '$not'] as const;
const OPERATORS = ['$eq', '$neq', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$startsWith', '$endsWith', '$exist'] as const;
type Operator = (typeof OPERATORS)[number];

const OPERATOR_SET: ReadonlySet<string> = new Set(OPERATORS);
const COMBINATOR_SET: ReadonlySet<string> = new Set(COMBINATORS);

// ---------------------------------------------------------------------------------------------
// Problems

/** Every problem of a filter as written, each with the JSON path of the fault under `path`; [] when valid. */
export function filterProblems(filter: unknown, path: string): { path: string; message: string }[] {
  const problems: FilterProblem[] = [];
  checkFilter(filter, path, 'a filter', problems);
  return problems.map((problem) => ({ path: problem.path, message: problem.message }));
}

/** `what` names the filter in messages: `a filter`, `element 1 of $and`, `the filter under $not`. */
function checkFilter(filter: unknown, at: string, what: string, problems: FilterProblem[]): void {
  if (!isPlainObject(filter)) {
    problems.push({ path: at, message: `${what} must be an object of paths and $and/$or/$not, got ${describe(filter)}` });
    return;
  }
  for (const [key, value] of Object.entries(filter)) {
    const keyAt = jsonPathKey(at, key);
    if (key.startsWith('$')) {
      checkCombinator(key, value, keyAt, problems);
    } else {
      checkPath(key, keyAt, problems);
      checkCondition(value, keyAt, key, problems);
    }
  }
}

function checkCombinator(key: string, value: unknown, at: string, problems: FilterProblem[]): void {
  if (key === '$and' || key === '$or') {
    if (!Array.isArray(value)) {
      problems.push({ path: at, message: `${key} expects an array of filter objects, got ${describe(value)}` });
      return;
    }
    value.forEach((element, index) => checkFilter(element, `${at}[${index}]`, `element ${index} of ${key}`, problems));
  } else if (key === '$not') {
    if (!isPlainObject(value)) {
      problems.push({ path: at, message: `$not expects one filter object, got ${describe(value)}` });
      return;
    }
    checkFilter(value, at, 'the filter under $not', problems);
  } else if (OPERATOR_SET.has(key)) {
    problems.push({
      path: at,
      message: `operator ${key} needs a path before it (e.g. {"data.currency": {"${key}": …}}); a filter's keys are paths or $and, $or, $not`,
    });
  } else {
    problems.push({ path: at, message: `unknown combinator ${JSON.stringify(key)}${suggestion(key, COMBINATORS)}; a filter's keys are paths or $and, $or, $not` });
  }
}

function checkPath(key: string, at: string, problems: FilterProblem[]): void {
  if (key.split('.').some((segment) => segment === '')) {
    problems.push({ path: at, message: `path ${JSON.stringify(key)} has an empty segment; expected dot-separated names such as data.customer.email` });
  }
}

/** The value of a path key: an operator object, nested paths, or a literal (which is always fine). */
function checkCondition(value: unknown, at: string, path: string, problems: FilterProblem[]): void {
  if (!isPlainObject(value)) return;
  const keys = Object.keys(value);
  const operators = keys.filter((key) => key.startsWith('$'));
  if (operators.length > 0 && operators.length < keys.length) {
    const plain = keys.filter((key) => !key.startsWith('$'));
    problems.push({
      path: at,
      message:
        `the object under ${path} mixes operators (${operators.join(', ')}) and paths (${plain.join(', ')}); ` +
        'expected either operators only (e.g. {"$gte": 100}) or nested paths only (e.g. {"currency": "USD"})',
    });
    return;
  }
  if (operators.length === 0) {
    for (const [key, nested] of Object.entries(value)) {
      const keyAt = jsonPathKey(at, key);
      checkPath(key, keyAt, problems);
      checkCondition(nested, keyAt, `${path}.${key}`, problems);
    }
    return;
  }
  for (const [operator, operand] of Object.entries(value)) {
    checkOperator(operator, operand, jsonPathKey(at, operator), path, problems);
  }
}

function checkOperator(operator: string, operand: unknown, at: string, path: string, problems: FilterProblem[]): void {
  const expected = (what: string): void => {
    problems.push({ path: at, message: `${operator} on ${path} expects ${what}, got ${describe(operand)}` });
  };
  switch (operator) {
    case '$eq':
    case '$neq':
      if (operand === undefined) expected('a JSON value');
      return;
    case '$in':
    case '$nin':
      if (!Array.isArray(operand)) {
        expected('an array of literals (strings, numbers, booleans or null)');
        return;
      }
      operand.forEach((element: unknown, index) => {
        if (!isLiteral(element)) {
          problems.push({
            path: `${at}[${index}]`,
            message: `${operator} on ${path} expects literals (strings, numbers, booleans or null), got ${describe(element)} at index ${index}`,
          });
        }
      });
      return;
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      if (!(typeof operand === 'string' || (typeof operand === 'number' && Number.isFinite(operand)))) expected('a number or a string');
      return;
    case '$startsWith':
    case '$endsWith':
      if (typeof operand !== 'string') expected('a string');
      return;
    case '$exist':
      if (typeof operand !== 'boolean') expected('a boolean (true or false)');
      return;
    default:
      if (COMBINATOR_SET.has(operator)) {
        problems.push({
          path: at,
          message: `${operator} under the path ${path} is not an operator; combinators belong at the top level of a filter (e.g. {"${operator}": [{"${path}": …}]})`,
        });
      } else {
        problems.push({
          path: at,
          message: `unknown operator ${JSON.stringify(operator)} on ${path}${suggestion(operator, OPERATORS)}; expected one of ${OPERATORS.join(', ')}`,
        });
      }
  }
}

// ---------------------------------------------------------------------------------------------
// Compilation

/** A compiled filter: a predicate and, for a failing envelope, why it fails. */
interface Node {
  test(envelope: unknown): boolean;
  explain(envelope: unknown): string | undefined;
}

/** An operator with its operand, ready to test one value found at the end of a path. */
interface Test {
  readonly label: string;
  /** Whether it holds on a missing path or element (`$neq`, `$nin`, `$exist: false`). */
  readonly onMissing: boolean;
  /** Compares a whole array at the end of the path rather than its elements (`$eq`/`$neq` with an array). */
  readonly wholeArray: boolean;
  /** Tests a value that is neither null nor (unless `wholeArray`) an array. */
  readonly holds: (value: unknown) => boolean;
}

const compiled = new WeakMap<object, Node>();

/** Compiles a valid filter (throws Error with filterProblems' first message when invalid) into a predicate over the parsed envelope. */
export function compileFilter(filter: RouteFilter): (envelope: unknown) => boolean {
  const node = compiledNode(filter);
  return (envelope) => node.test(envelope);
}

/** Why a filter does not hold for the envelope, naming the first failing condition and the value found; undefined when it holds. Throws as compileFilter does on an invalid filter. */
export function explainFilter(filter: RouteFilter, envelope: unknown): string | undefined {
  return compiledNode(filter).explain(envelope);
}

function compiledNode(filter: RouteFilter): Node {
  // Non-objects have no WeakMap identity; filterProblems reports them below.
  const cached = isPlainObject(filter) ? compiled.get(filter) : undefined;
  if (cached) return cached;
  const problems = filterProblems(filter, '');
  if (problems.length > 0) throw new Error(problems[0].message);
  const node = compileObject(filter);
  compiled.set(filter, node);
  return node;
}

function compileObject(filter: RouteFilter): Node {
  const children: Node[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and') children.push(andNode((value as RouteFilter[]).map(compileObject)));
    else if (key === '$or') children.push(orNode((value as RouteFilter[]).map(compileObject)));
    else if (key === '$not') children.push(notNode(compileObject(value as RouteFilter), value));
    else compileCondition(key, value, children);
  }
  return children.length === 1 ? children[0] : andNode(children);
}

/** Adds the conditions of one path key (flattening nested paths) to `into`. */
function compileCondition(path: string, value: unknown, into: Node[]): void {
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0 || !keys[0].startsWith('$')) {
      for (const [key, nested] of Object.entries(value)) compileCondition(`${path}.${key}`, nested, into);
      return;
    }
    for (const [operator, operand] of Object.entries(value)) into.push(conditionNode(path, makeTest(operator as Operator, operand)));
    return;
  }
  into.push(conditionNode(path, makeTest('$eq', value)));
}

function makeTest(operator: Operator, operand: unknown): Test {
  const label = `${operator} ${show(operand)}`;
  const test = (holds: (value: unknown) => boolean, onMissing = false, wholeArray = false): Test => ({ label, onMissing, wholeArray, holds });
  switch (operator) {
    case '$eq':
      if (Array.isArray(operand)) return test((value) => deepEqual(value, operand), false, true);
      if (isPlainObject(operand)) return test((value) => deepEqual(value, operand));
      return test((value) => value === operand);
    case '$neq':
      if (Array.isArray(operand)) return test((value) => !deepEqual(value, operand), true, true);
      if (isPlainObject(operand)) return test((value) => !deepEqual(value, operand), true);
      return test((value) => value !== operand, true);
    case '$in': {
      const set = new Set(operand as unknown[]);
      return test((value) => set.has(value));
    }
    case '$nin': {
      const set = new Set(operand as unknown[]);
      return test((value) => !set.has(value), true);
    }
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte': {
      const kind = typeof operand;
      const bound = operand as number | string;
      const compare =
        operator === '$gt'
          ? (value: number | string) => value > bound
          : operator === '$gte'
            ? (value: number | string) => value >= bound
            : operator === '$lt'
              ? (value: number | string) => value < bound
              : (value: number | string) => value <= bound;
      return test((value) => typeof value === kind && compare(value as number | string));
    }
    case '$startsWith': {
      const prefix = operand as string;
      return test((value) => typeof value === 'string' && value.startsWith(prefix));
    }
    case '$endsWith': {
      const suffix = operand as string;
      return test((value) => typeof value === 'string' && value.endsWith(suffix));
    }
    case '$exist':
      return operand === true ? test(() => true) : test(() => false, true);
  }
}

function conditionNode(path: string, test: Test): Node {
  const segments = path.split('.');
  return {
    test: (envelope) => anyLeaf(envelope, segments, 0, test),
    explain: (envelope) => (anyLeaf(envelope, segments, 0, test) ? undefined : `${path} is ${foundText(envelope, segments)}, not ${test.label}`),
  };
}

/** Whether `test` holds for any value the path reaches from `value` (from segment `index` on). */
function anyLeaf(value: unknown, segments: readonly string[], index: number, test: Test): boolean {
  if (value === null || value === undefined) return test.onMissing;
  if (Array.isArray(value)) {
    if (index === segments.length && test.wholeArray) return test.holds(value);
    if (value.length === 0) return test.onMissing;
    for (const element of value) if (anyLeaf(element, segments, index, test)) return true;
    return false;
  }
  if (index === segments.length) return test.holds(value);
  if (typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, segments[index])) return test.onMissing;
  return anyLeaf((value as Record<string, unknown>)[segments[index]], segments, index + 1, test);
}

function andNode(children: readonly Node[]): Node {
  return {
    test: (envelope) => children.every((child) => child.test(envelope)),
    explain: (envelope) => {
      for (const child of children) {
        const why = child.explain(envelope);
        if (why !== undefined) return why;
      }
      return undefined;
    },
  };
}

function orNode(children: readonly Node[]): Node {
  return {
    test: (envelope) => children.some((child) => child.test(envelope)),
    explain: (envelope) => {
      if (children.length === 0) return '$or is empty, and an empty $or holds for no event';
      const reasons: string[] = [];
      for (const child of children) {
        const why = child.explain(envelope);
        if (why === undefined) return undefined;
        reasons.push(why);
      }
      return `none of $or holds: ${reasons.join('; ')}`;
    },
  };
}

function notNode(child: Node, source: unknown): Node {
  return {
    test: (envelope) => !child.test(envelope),
    explain: (envelope) => (child.test(envelope) ? `$not ${show(source)} fails, as its filter holds` : undefined),
  };
}

// ---------------------------------------------------------------------------------------------
// Explanations

const MISSING = Symbol('missing');
const SHOWN_ELEMENTS = 5;
const SHOWN_CHARS = 80;

/** What a path holds in an envelope, as explanations show it: `2999`, `"USD"`, `missing`, `["pdt_a", missing]`. */
function foundText(envelope: unknown, segments: readonly string[]): string {
  const found: unknown[] = [];
  const viaArray = collect(envelope, segments, 0, found);
  if (!viaArray) return found[0] === MISSING ? 'missing' : show(found[0]);
  if (found.every((value) => value === MISSING)) return 'missing';
  const shown = found.slice(0, SHOWN_ELEMENTS).map((value) => (value === MISSING ? 'missing' : show(value)));
  if (found.length > SHOWN_ELEMENTS) shown.push('…');
  return `[${shown.join(', ')}] (per element)`;
}

/** Pushes every value the path reaches (MISSING where it reaches none); true when it went through an array. */
function collect(value: unknown, segments: readonly string[], index: number, out: unknown[]): boolean {
  if (index === segments.length) {
    out.push(value === undefined ? MISSING : value);
    return false;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) out.push(MISSING);
    for (const element of value) collect(element, segments, index, out);
    return true;
  }
  if (value === null || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, segments[index])) {
    out.push(MISSING);
    return false;
  }
  return collect((value as Record<string, unknown>)[segments[index]], segments, index + 1, out);
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS - 1)}…` : text;
}

// ---------------------------------------------------------------------------------------------
// Paths

/** The dotted paths a filter reads (inside $and/$or/$not too, nested objects flattened), each once, in order. */
export function filterPaths(filter: RouteFilter): string[] {
  const paths = new Set<string>();
  const visitFilter = (value: unknown): void => {
    if (!isPlainObject(value)) return;
    for (const [key, nested] of Object.entries(value)) {
      if (key === '$and' || key === '$or') {
        if (Array.isArray(nested)) nested.forEach(visitFilter);
      } else if (key === '$not') {
        visitFilter(nested);
      } else if (!key.startsWith('$')) {
        visitCondition(key, nested);
      }
    }
  };
  const visitCondition = (path: string, value: unknown): void => {
    if (isPlainObject(value)) {
      const keys = Object.keys(value);
      // `{}` under a path is nested paths with none in it: it reads nothing.
      if (keys.every((key) => !key.startsWith('$'))) {
        for (const key of keys) visitCondition(`${path}.${key}`, value[key]);
        return;
      }
    }
    paths.add(path);
  };
  visitFilter(filter);
  return [...paths];
}

/** Paths every envelope has, whatever its type. */
const ENVELOPE_PATHS: ReadonlySet<string> = new Set(['business_id', 'type', 'timestamp', 'data']);

/**
 * Paths of `filterPaths(filter)` that no known event type whose type matches one of `eventGlobs`
 * has (per KNOWN_EVENT_PATHS); used to warn, never to refuse. The envelope's own paths are always
 * known, and so is any path below a known `metadata` object (merchants put their own keys there).
 * When the globs match no known type, every other path is reported.
 */
export function unknownFilterPaths(filter: RouteFilter, eventGlobs: readonly string[]): string[] {
  // A legacy name as a glob (`payout.not_initiated`) stands for its successor's events.
  const matches = compileEventGlobs(eventGlobs.map(canonicalEventType));
  const known = new Set<string>(ENVELOPE_PATHS);
  for (const [type, paths] of Object.entries(KNOWN_EVENT_PATHS)) {
    if (matches(type)) for (const path of paths) known.add(path);
  }
  return filterPaths(filter).filter((path) => !isKnownPath(path, known));
}

function isKnownPath(path: string, known: ReadonlySet<string>): boolean {
  if (known.has(path)) return true;
  const segments = path.split('.');
  for (let end = segments.length - 1; end > 0; end--) {
    if (segments[end - 1] === 'metadata' && known.has(segments.slice(0, end).join('.'))) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Helpers

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isLiteral(value: unknown): boolean {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((element, index) => deepEqual(element, b[index]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((key) => Object.prototype.hasOwnProperty.call(b, key) && deepEqual(a[key], b[key]))
    );
  }
  return false;
}

/** How a value of the wrong kind is named in a message: `a string ("USD")`, `an array`, `null`. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `a string (${show(value)})`;
    case 'number':
      return `a number (${show(value)})`;
    case 'boolean':
      return `a boolean (${String(value)})`;
    case 'object':
      return 'an object';
    default:
      return `a ${typeof value}`;
  }
}

const IDENTIFIER_PATH = /^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$/;

/** `at` followed by a key: `.key` for dotted identifiers (`data.total_amount`), `["…"]` otherwise. */
function jsonPathKey(at: string, key: string): string {
  if (IDENTIFIER_PATH.test(key)) return at === '' ? key : `${at}.${key}`;
  return `${at}[${JSON.stringify(key)}]`;
}

/** ` (did you mean "$gt"?)` when a known name is one or two edits away. */
function suggestion(name: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best === undefined ? '' : ` (did you mean ${JSON.stringify(best)}?)`;
}

