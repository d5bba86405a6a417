import fc from 'fast-check';
import { compileFilter, explainFilter, filterProblems, type RouteFilter } from '../../lambda/shared/route-filter';

// Small vocabularies, so that random filters and random envelopes often meet.
const NAMES = ['a', 'b', 'c'];
const SETTINGS = { seed: 42, numRuns: 300 };

const name = fc.constantFrom(...NAMES);
const primitive = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: 0, max: 3 }),
  fc.constantFrom('', 'x', 'y', 'xy', '1', '2026-03-14T09:26:53.412Z'),
);

/** JSON envelopes with nested objects, arrays (empty too), nulls, numbers and numeric-looking strings. */
const json: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    primitive,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(name, tie('value'), { maxKeys: 3 }),
  ),
})).value;
const envelope = fc.dictionary(name, json, { maxKeys: 3 });
/** Envelopes with every name at the top, deeper objects likely: more nested paths lead somewhere. */
const denseEnvelope = fc.record({ a: json, b: json, c: json });

const path = fc.array(name, { minLength: 1, maxLength: 3 }).map((segments) => segments.join('.'));

const operatorEntry: fc.Arbitrary<[string, unknown]> = fc.oneof(
  fc.tuple(fc.constantFrom('$eq', '$neq'), fc.oneof(primitive, fc.array(primitive, { maxLength: 2 }))),
  fc.tuple(fc.constantFrom('$in', '$nin'), fc.array(primitive, { maxLength: 3 })),
  fc.tuple(fc.constantFrom('$gt', '$gte', '$lt', '$lte'), fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom('', 'x', '1', '2026'))),
  fc.tuple(fc.constantFrom('$startsWith', '$endsWith'), fc.constantFrom('', 'x', 'y', '1')),
  fc.tuple(fc.constant('$exist'), fc.boolean()),
);
/** The value of a path key that is not nested paths: a literal (`$eq`) or an operator object. */
const condition: fc.Arbitrary<unknown> = fc.oneof(
  primitive,
  fc.array(primitive, { maxLength: 2 }),
  fc.array(operatorEntry, { minLength: 1, maxLength: 3 }).map((entries) => Object.fromEntries(entries)),
);

const filter: fc.Arbitrary<RouteFilter> = fc.letrec<{ filter: RouteFilter }>((tie) => ({
  filter: fc
    .tuple(
      fc.dictionary(path, condition, { maxKeys: 2 }),
      fc.option(
        fc.oneof(
          { depthSize: 'small' },
          fc.record({ $and: fc.array(tie('filter'), { maxLength: 2 }) }),
          fc.record({ $or: fc.array(tie('filter'), { maxLength: 2 }) }),
          fc.record({ $not: tie('filter') }),
        ),
        { nil: undefined },
      ),
    )
    .map(([paths, combinator]) => ({ ...paths, ...combinator })),
})).filter;

/** A filter in nested-object form: single-name keys whose values are conditions or further nesting. */
type Nested = { [key: string]: unknown };
const nested: fc.Arbitrary<Nested> = fc.letrec<{ tree: Nested }>((tie) => ({
  tree: fc.dictionary(name, fc.oneof({ depthSize: 'small' }, condition, tie('tree')), { minKeys: 1, maxKeys: 2 }),
})).tree;

/** The dotted form of a nested filter (conditions are never plain objects without `$` keys). */
function flatten(tree: Nested, prefix = '', into: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [key, value] of Object.entries(tree)) {
    const at = prefix === '' ? key : `${prefix}.${key}`;
    const isNested = typeof value === 'object' && value !== null && !Array.isArray(value) && !Object.keys(value).some((k) => k.startsWith('$'));
    if (isNested) flatten(value as Nested, at, into);
    else into[at] = value;
  }
  return into;
}

const holds = (f: RouteFilter, e: unknown): boolean => compileFilter(f)(e);

describe('route filter laws', () => {
  test('generated filters are valid, and explainFilter agrees with the predicate', () => {
    fc.assert(
      fc.property(filter, envelope, (f, e) => {
        expect(filterProblems(f, 'filter')).toEqual([]);
        expect(explainFilter(f, e) === undefined).toBe(holds(f, e));
      }),
      SETTINGS,
    );
  });

  test('$not: f holds iff f does not', () => {
    fc.assert(
      fc.property(filter, envelope, (f, e) => holds({ $not: f }, e) === !holds(f, e)),
      SETTINGS,
    );
  });

  test('$and: [a, b] holds iff both do', () => {
    fc.assert(
      fc.property(filter, filter, envelope, (a, b, e) => holds({ $and: [a, b] }, e) === (holds(a, e) && holds(b, e))),
      SETTINGS,
    );
  });

  test('$or: [a, b] holds iff either does', () => {
    fc.assert(
      fc.property(filter, filter, envelope, (a, b, e) => holds({ $or: [a, b] }, e) === (holds(a, e) || holds(b, e))),
      SETTINGS,
    );
  });

  test('{...a, ...b} with disjoint keys is $and: [a, b]', () => {
    fc.assert(
      fc.property(filter, filter, envelope, (a, b, e) => {
        const disjoint = Object.fromEntries(Object.entries(b).filter(([key]) => !(key in a)));
        return holds({ ...a, ...disjoint }, e) === holds({ $and: [a, disjoint] }, e);
      }),
      SETTINGS,
    );
  });

  test('several operators on a key are the $and of each alone', () => {
    fc.assert(
      fc.property(path, fc.array(operatorEntry, { minLength: 1, maxLength: 3 }), envelope, (p, entries, e) => {
        const operators = Object.fromEntries(entries);
        const each = Object.entries(operators).map(([operator, operand]) => ({ [p]: { [operator]: operand } }));
        return holds({ [p]: operators }, e) === holds({ $and: each }, e);
      }),
      SETTINGS,
    );
  });

  test('nested-object form equals dotted form', () => {
    fc.assert(
      fc.property(nested, denseEnvelope, (tree, e) => holds(tree, e) === holds(flatten(tree), e)),
      // Few random nested filters hold; more runs give more of both outcomes.
      { ...SETTINGS, numRuns: 1000 },
    );
  });

  test('$exist: false holds iff $exist: true does not, where no array is on the path', () => {
    const arrayFree: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, primitive, fc.dictionary(name, tie('value'), { maxKeys: 3 })),
    })).value;
    fc.assert(
      fc.property(path, fc.dictionary(name, arrayFree, { maxKeys: 3 }), (p, e) => holds({ [p]: { $exist: false } }, e) === !holds({ [p]: { $exist: true } }, e)),
      SETTINGS,
    );
  });
});
