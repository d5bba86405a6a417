import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  compileFilter,
  explainFilter,
  filterPaths,
  filterProblems,
  unknownFilterPaths,
  type RouteFilter,
} from '../../lambda/shared/route-filter';

const SAMPLES = path.join(__dirname, '..', '..', 'samples');

/** The real Dodo body of `type` from samples/, a fresh copy each time. */
function sample(type: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(SAMPLES, `${type}.json`), 'utf8')) as Record<string, unknown>;
}

/** A sample with some of its `data` fields replaced (or, with `undefined`, removed). */
function withData(type: string, changes: Record<string, unknown>): Record<string, unknown> {
  const body = sample(type);
  const data = { ...(body.data as Record<string, unknown>) };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete data[key];
    else data[key] = value;
  }
  return { ...body, data };
}

const cart = (...items: Record<string, unknown>[]) => withData('payment.succeeded', { product_cart: items });

describe('compileFilter', () => {
  const cases: [string, RouteFilter, unknown, boolean][] = [
    // Payments: literals, operators, the cart through an array.
    ['empty filter holds', {}, sample('payment.succeeded'), true],
    ['empty filter holds on any value', {}, 'not even an object', true],
    ['literal is $eq', { 'data.currency': 'USD' }, sample('payment.succeeded'), true],
    ['literal is $eq (miss)', { 'data.currency': 'EUR' }, sample('payment.succeeded'), false],
    ['envelope type', { type: 'payment.succeeded' }, sample('payment.succeeded'), true],
    ['$gte on an amount (miss)', { 'data.total_amount': { $gte: 50000 } }, sample('payment.succeeded'), false],
    ['$gte on an amount', { 'data.total_amount': { $gte: 2999 } }, sample('payment.succeeded'), true],
    ['$gt is strict', { 'data.total_amount': { $gt: 2999 } }, sample('payment.succeeded'), false],
    ['$lt', { 'data.total_amount': { $lt: 3000 } }, sample('payment.succeeded'), true],
    ['$lte', { 'data.total_amount': { $lte: 2998 } }, sample('payment.succeeded'), false],
    ['several operators on a key all hold', { 'data.total_amount': { $gte: 100, $lt: 5000 } }, sample('payment.succeeded'), true],
    ['several operators on a key: one fails', { 'data.total_amount': { $gte: 100, $lt: 500 } }, sample('payment.succeeded'), false],
    ['$in', { 'data.currency': { $in: ['EUR', 'USD'] } }, sample('payment.succeeded'), true],
    ['$in (miss)', { 'data.currency': { $in: ['EUR', 'GBP'] } }, sample('payment.succeeded'), false],
    ['$nin', { 'data.currency': { $nin: ['EUR', 'GBP'] } }, sample('payment.succeeded'), true],
    ['$nin (miss)', { 'data.currency': { $nin: ['USD'] } }, sample('payment.succeeded'), false],
    ['$neq', { 'data.status': { $neq: 'failed' } }, sample('payment.succeeded'), true],
    ['$neq (miss)', { 'data.status': { $neq: 'succeeded' } }, sample('payment.succeeded'), false],
    ['$startsWith', { 'data.customer.email': { $endsWith: '@example.com' } }, sample('payment.succeeded'), true],
    ['$endsWith (miss)', { 'data.customer.email': { $endsWith: '@example.org' } }, sample('payment.succeeded'), false],
    ['$startsWith on an id', { 'data.payment_id': { $startsWith: 'pay_' } }, sample('payment.succeeded'), true],
    ['$startsWith never holds on a number', { 'data.total_amount': { $startsWith: '29' } }, sample('payment.succeeded'), false],
    ['$eq on a boolean', { 'data.digital_products_delivered': false }, sample('payment.succeeded'), true],
    ['array element: product in the cart', { 'data.product_cart.product_id': 'pdt_R8AWMPiV8RyJElcCKvAID' }, sample('payment.succeeded'), true],
    ['array element: product not in the cart', { 'data.product_cart.product_id': 'pdt_other' }, sample('payment.succeeded'), false],
    ['array: any element of several', { 'data.product_cart.product_id': 'pdt_b' }, cart({ product_id: 'pdt_a' }, { product_id: 'pdt_b' }), true],
    ['array: $in over elements', { 'data.product_cart.product_id': { $in: ['pdt_x', 'pdt_b'] } }, cart({ product_id: 'pdt_a' }, { product_id: 'pdt_b' }), true],
    ['array: $neq holds when any element differs', { 'data.product_cart.product_id': { $neq: 'pdt_a' } }, cart({ product_id: 'pdt_a' }, { product_id: 'pdt_b' }), true],
    ['array: $neq fails when every element equals', { 'data.product_cart.product_id': { $neq: 'pdt_a' } }, cart({ product_id: 'pdt_a' }, { product_id: 'pdt_a' }), false],
    ['array: $nin holds when any element is outside', { 'data.product_cart.product_id': { $nin: ['pdt_a'] } }, cart({ product_id: 'pdt_a' }, { product_id: 'pdt_b' }), true],
    ['array: $nin fails when every element is inside', { 'data.product_cart.product_id': { $nin: ['pdt_a', 'pdt_b'] } }, cart({ product_id: 'pdt_a' }, { product_id: 'pdt_b' }), false],
    ['array: $not for "no element"', { $not: { 'data.product_cart.product_id': 'pdt_a' } }, cart({ product_id: 'pdt_a' }, { product_id: 'pdt_b' }), false],
    ['array: $not holds when no element matches', { $not: { 'data.product_cart.product_id': 'pdt_z' } }, cart({ product_id: 'pdt_a' }, { product_id: 'pdt_b' }), true],
    ['array: comparison on any element', { 'data.product_cart.quantity': { $gte: 3 } }, cart({ product_id: 'a', quantity: 1 }, { product_id: 'b', quantity: 4 }), true],
    ['array: operators of a key may be met by different elements', { 'data.product_cart.quantity': { $gte: 3, $lte: 1 } }, cart({ quantity: 1 }, { quantity: 4 }), true],
    ['nested object under an array: each dotted path on its own', { data: { product_cart: { product_id: 'a', quantity: 4 } } }, cart({ product_id: 'a', quantity: 1 }, { product_id: 'b', quantity: 4 }), true],
    // Mixed elements: some have the key, some lack it.
    ['mixed elements: $eq holds through the element that has it', { 'data.product_cart.addon_id': 'add_1' }, cart({ addon_id: 'add_1' }, {}), true],
    ['mixed elements: $exist false holds through the element that lacks it', { 'data.product_cart.addon_id': { $exist: false } }, cart({ addon_id: 'add_1' }, {}), true],
    ['mixed elements: $exist true holds through the element that has it', { 'data.product_cart.addon_id': { $exist: true } }, cart({ addon_id: 'add_1' }, {}), true],
    ['mixed elements: $neq holds through the element that lacks it', { 'data.product_cart.addon_id': { $neq: 'add_1' } }, cart({ addon_id: 'add_1' }, {}), true],
    ['mixed elements: $nin holds through a null element', { 'data.product_cart.addon_id': { $nin: ['add_1'] } }, cart({ addon_id: 'add_1' }, { addon_id: null }), true],
    ['every element has it: $exist false fails', { 'data.product_cart.product_id': { $exist: false } }, cart({ product_id: 'a' }, { product_id: 'b' }), false],
    ['no element has it: $exist true fails', { 'data.product_cart.addon_id': { $exist: true } }, cart({ product_id: 'a' }, { product_id: 'b' }), false],
    // Missing paths, null values, empty arrays.
    ['missing path: $eq fails', { 'data.no_such_field': 'x' }, sample('payment.succeeded'), false],
    ['missing path: $exist false holds', { 'data.no_such_field': { $exist: false } }, sample('payment.succeeded'), true],
    ['missing path: $neq holds', { 'data.no_such_field': { $neq: 'x' } }, sample('payment.succeeded'), true],
    ['missing path: $nin holds', { 'data.no_such_field': { $nin: ['x'] } }, sample('payment.succeeded'), true],
    ['missing path: $lt fails', { 'data.no_such_field': { $lt: 10 } }, sample('payment.succeeded'), false],
    ['path past a string is missing', { 'data.currency.code': { $exist: false } }, sample('payment.succeeded'), true],
    ['null value is missing: $exist false', { 'data.discount_id': { $exist: false } }, sample('payment.succeeded'), true],
    ['null value is missing: $exist true fails', { 'data.discount_id': { $exist: true } }, sample('payment.succeeded'), false],
    ['null literal never matches (null is missing)', { 'data.discount_id': null }, sample('payment.succeeded'), false],
    ['null value: $neq holds', { 'data.customer.phone_number': { $neq: '+1' } }, sample('payment.succeeded'), true],
    ['through an empty array is missing: $exist false', { 'data.refunds.refund_id': { $exist: false } }, sample('payment.succeeded'), true],
    ['through an empty array: $eq fails', { 'data.refunds.refund_id': 'ref_1' }, sample('payment.succeeded'), false],
    ['through an empty array: $nin holds', { 'data.disputes.dispute_id': { $nin: ['dis_1'] } }, sample('payment.succeeded'), true],
    ['empty array at the end is missing: $exist true fails', { 'data.subscription_ids': { $exist: true } }, sample('payment.succeeded'), false],
    ['empty array equals [] as a whole', { 'data.subscription_ids': [] }, sample('payment.succeeded'), true],
    // A number never equals a string.
    ['number is not its string', { 'data.total_amount': '2999' }, sample('payment.succeeded'), false],
    ['string amount is not its number (dispute)', { 'data.amount': 2999 }, sample('dispute.opened'), false],
    ['string amount equals its string (dispute)', { 'data.amount': '2999' }, sample('dispute.opened'), true],
    ['string amount: $in with a number fails', { 'data.amount': { $in: [2999] } }, sample('dispute.opened'), false],
    ['string amount: $gt with a number fails', { 'data.amount': { $gt: 1 } }, sample('dispute.opened'), false],
    ['number: $gt with a string fails', { 'data.total_amount': { $gt: '1' } }, sample('payment.succeeded'), false],
    ['strings compare as strings ("1000" < "999")', { 'data.amount': { $lt: '999' } }, sample('credit.added'), true],
    // ISO timestamps compare as strings.
    ['timestamp after', { timestamp: { $gte: '2026-03-01T00:00:00.000Z' } }, sample('payment.succeeded'), true],
    ['timestamp before', { timestamp: { $lt: '2026-03-14T00:00:00Z' } }, sample('payment.succeeded'), false],
    ['timestamp range', { 'data.created_at': { $gt: '2026-03-14', $lt: '2026-03-15' } }, sample('refund.succeeded'), false],
    ['timestamp range (hit)', { 'data.created_at': { $gt: '2026-03-15', $lt: '2026-03-16' } }, sample('refund.succeeded'), true],
    // $eq with an array literal compares the whole array; otherwise an end array is any element.
    ['$eq with an array literal: whole array', { 'data.subscription_ids': ['sub_1', 'sub_2'] }, withData('payment.succeeded', { subscription_ids: ['sub_1', 'sub_2'] }), true],
    ['$eq with an array literal: order matters', { 'data.subscription_ids': { $eq: ['sub_2', 'sub_1'] } }, withData('payment.succeeded', { subscription_ids: ['sub_1', 'sub_2'] }), false],
    ['$eq with an array literal: a subset is not equal', { 'data.subscription_ids': ['sub_1'] }, withData('payment.succeeded', { subscription_ids: ['sub_1', 'sub_2'] }), false],
    ['$neq with an array literal: whole array', { 'data.subscription_ids': { $neq: ['sub_1'] } }, withData('payment.succeeded', { subscription_ids: ['sub_1', 'sub_2'] }), true],
    ['end array: scalar literal matches any element', { 'data.subscription_ids': 'sub_2' }, withData('payment.succeeded', { subscription_ids: ['sub_1', 'sub_2'] }), true],
    ['end array: $startsWith on any element', { 'data.subscription_ids': { $startsWith: 'sub_2' } }, withData('payment.succeeded', { subscription_ids: ['sub_1', 'sub_2'] }), true],
    // Nested objects are their dotted paths; deep equality needs $eq.
    ['nested object = dotted paths', { data: { currency: 'USD', customer: { email: 'ada@example.com' } } }, sample('subscription.active'), true],
    ['nested object = dotted paths (miss)', { data: { customer: { email: 'bob@example.com' } } }, sample('subscription.active'), false],
    ['nested object with dotted keys', { data: { 'customer.email': 'ada@example.com' } }, sample('refund.succeeded'), true],
    ['nested object with operators inside', { data: { recurring_pre_tax_amount: { $gt: 1000 } } }, sample('subscription.active'), true],
    ['$eq with an object literal: deep equality', { 'data.metadata': { $eq: { order_ref: 'A-1042' } } }, sample('payment.succeeded'), true],
    ['$eq with an object literal: key order does not matter', { 'data.billing': { $eq: { zipcode: '94105', street: '1 Market St', state: 'CA', city: 'San Francisco', country: 'US' } } }, sample('payment.succeeded'), true],
    ['$eq with an object literal: extra keys are unequal', { 'data.metadata': { $eq: {} } }, sample('payment.succeeded'), false],
    ['object as plain value is nested paths, not equality', { 'data.metadata': {} }, sample('payment.succeeded'), true],
    ['$eq with an object literal on array elements', { 'data.discounts.metadata': { $eq: {} } }, sample('subscription.active'), true],
    // Combinators.
    ['$and: both hold', { $and: [{ type: 'refund.succeeded' }, { 'data.is_partial': false }] }, sample('refund.succeeded'), true],
    ['$and: one fails', { $and: [{ type: 'refund.succeeded' }, { 'data.is_partial': true }] }, sample('refund.succeeded'), false],
    ['$and: [] holds', { $and: [] }, sample('refund.failed'), true],
    ['$or: one holds', { $or: [{ 'data.reason': 'fraudulent' }, { 'data.reason': 'duplicate' }] }, sample('dispute.opened'), true],
    ['$or: none holds', { $or: [{ 'data.dispute_stage': 'pre_dispute' }, { 'data.dispute_status': 'dispute_won' }] }, sample('dispute.opened'), false],
    ['$or: [] holds for no event', { $or: [] }, sample('dispute.won'), false],
    ['$not', { $not: { 'data.status': 'active' } }, sample('license_key.created'), false],
    ['$not (hit)', { $not: { 'data.activations_limit': { $gt: 5 } } }, sample('license_key.created'), true],
    ['combinators beside paths: all hold', { 'data.source': 'auto', $or: [{ 'data.expires_at': { $exist: false } }, { 'data.expires_at': { $gt: '2030' } }] }, sample('license_key.created'), true],
    ['combinators beside paths: path fails', { 'data.source': 'manual', $not: { 'data.status': 'disabled' } }, sample('license_key.created'), false],
    ['nested combinators', { $or: [{ $and: [{ type: { $startsWith: 'payout.' } }, { 'data.amount': { $gte: 1000000 } }] }, { type: 'payout.failed' }] }, sample('payout.success'), true],
    // Other families.
    ['payout: status and null remarks', { 'data.status': 'success', 'data.remarks': { $exist: false } }, sample('payout.success'), true],
    ['payout: $in on status', { 'data.status': { $in: ['failed', 'on_hold'] } }, sample('payout.on_hold'), true],
    ['credit: boolean and string amount', { 'data.is_credit': true, 'data.amount': { $in: ['1000', '2000'] } }, sample('credit.added'), true],
    ['credit: reference type', { 'data.reference_type': { $neq: 'subscription' } }, sample('credit.added'), false],
    ['entitlement grant: integration type', { 'data.integration_type': 'license_key', 'data.license_key': { $exist: false } }, sample('entitlement_grant.created'), true],
    ['entitlement grant: status case matters', { 'data.status': 'pending' }, sample('entitlement_grant.created'), false],
    ['dunning: trigger state', { type: { $startsWith: 'dunning.' }, 'data.trigger_state': 'on_hold' }, sample('dunning.started'), true],
    ['dunning: null payment id', { 'data.payment_id': { $startsWith: 'pay_' } }, sample('dunning.started'), false],
    ['abandoned checkout: reason', { 'data.abandonment_reason': { $in: ['payment_failed'] }, 'data.recovered_payment_id': { $exist: false } }, sample('abandoned_checkout.detected'), true],
    ['abandoned checkout recovered: recovered payment', { 'data.recovered_payment_id': { $exist: true } }, sample('abandoned_checkout.recovered'), true],
    ['subscription: discount codes through an array', { 'data.discounts.code': 'LAUNCH20' }, sample('subscription.active'), true],
    ['subscription: customer email $endsWith', { 'data.customer.email': { $endsWith: 'example.com' }, 'data.payment_frequency_interval': 'Month' }, sample('subscription.renewed'), true],
    ['refund: partial', { 'data.is_partial': true }, sample('refund.succeeded'), false],
    ['refund: envelope business id', { business_id: { $startsWith: 'bus_' } }, sample('refund.failed'), true],
    ['dispute: $endsWith on type', { type: { $endsWith: '.lost' } }, sample('dispute.lost'), true],
    // Not an object envelope: every path is missing.
    ['envelope null: $exist false holds', { 'data.total_amount': { $exist: false } }, null, true],
    ['envelope a string: $eq fails', { type: 'x' }, 'payment.succeeded', false],
    ['own properties only', { 'data.constructor': { $exist: true } }, sample('payment.succeeded'), false],
  ];

  test('has at least 60 cases', () => expect(cases.length).toBeGreaterThanOrEqual(60));

  test.each(cases)('%s', (_name, filter, envelope, expected) => {
    expect(compileFilter(filter)(envelope)).toBe(expected);
    // explainFilter agrees with the predicate.
    expect(explainFilter(filter, envelope) === undefined).toBe(expected);
  });

  test('an invalid filter throws with the first problem', () => {
    const filter = { 'data.total_amount': { $gtt: 1 }, 'data.currency': { $in: 'USD' } };
    expect(() => compileFilter(filter)).toThrow(new Error(filterProblems(filter, '')[0].message));
    expect(() => compileFilter([] as unknown as RouteFilter)).toThrow(/must be an object/);
  });

  test('a compiled filter is reused for the same object', () => {
    const filter = { 'data.currency': 'USD' };
    const predicate = compileFilter(filter);
    expect(predicate(sample('payment.succeeded'))).toBe(true);
    expect(compileFilter(filter)(sample('payment.succeeded'))).toBe(true);
  });
});

describe('filterProblems', () => {
  test('a valid filter has none', () => {
    expect(
      filterProblems(
        {
          type: { $in: ['payment.succeeded', 'payment.failed'] },
          data: { total_amount: { $gte: 100, $lt: 500 }, customer: { email: { $endsWith: '@x.com' } } },
          $or: [{ 'data.currency': 'USD' }, { 'data.metadata': { $eq: { a: [1] } } }],
          $not: { 'data.discount_id': { $exist: true } },
          $and: [],
        },
        'routes[0].filter',
      ),
    ).toEqual([]);
  });

  test.each<[string, unknown, { path: string; message: RegExp }[]]>([
    ['unknown operator', { 'data.total_amount': { $gtt: 50000 } }, [{ path: 'routes[1].filter.data.total_amount.$gtt', message: /unknown operator "\$gtt" on data.total_amount \(did you mean "\$gt"\?\); expected one of \$eq/ }]],
    ['$in not an array', { 'data.currency': { $in: 'USD' } }, [{ path: 'routes[1].filter.data.currency.$in', message: /\$in on data.currency expects an array of literals .*, got a string \("USD"\)/ }]],
    ['$nin element not a literal', { 'data.currency': { $nin: ['USD', ['EUR']] } }, [{ path: 'routes[1].filter.data.currency.$nin[1]', message: /expects literals .*, got an array at index 1/ }]],
    ['$startsWith not a string', { 'data.customer.email': { $startsWith: 5 } }, [{ path: 'routes[1].filter.data.customer.email.$startsWith', message: /expects a string, got a number \(5\)/ }]],
    ['$endsWith not a string', { type: { $endsWith: null } }, [{ path: 'routes[1].filter.type.$endsWith', message: /expects a string, got null/ }]],
    ['$exist not a boolean', { 'data.discount_id': { $exist: 'yes' } }, [{ path: 'routes[1].filter.data.discount_id.$exist', message: /\$exist on data.discount_id expects a boolean \(true or false\), got a string \("yes"\)/ }]],
    ['$gt not a number or string', { 'data.total_amount': { $gt: true } }, [{ path: 'routes[1].filter.data.total_amount.$gt', message: /expects a number or a string, got a boolean \(true\)/ }]],
    ['$lte an object', { 'data.total_amount': { $lte: {} } }, [{ path: 'routes[1].filter.data.total_amount.$lte', message: /got an object/ }]],
    ['$and not an array', { $and: { type: 'x' } }, [{ path: 'routes[1].filter.$and', message: /\$and expects an array of filter objects, got an object/ }]],
    ['$or element not an object', { $or: [{ type: 'x' }, 'y'] }, [{ path: 'routes[1].filter.$or[1]', message: /element 1 of \$or must be an object .*, got a string \("y"\)/ }]],
    ['$not not an object', { $not: [{ type: 'x' }] }, [{ path: 'routes[1].filter.$not', message: /\$not expects one filter object, got an array/ }]],
    ['fault inside $and', { $and: [{ 'data.currency': { $in: 'USD' } }] }, [{ path: 'routes[1].filter.$and[0].data.currency.$in', message: /expects an array/ }]],
    ['fault inside $not inside $or', { $or: [{ $not: { type: { $exist: 1 } } }] }, [{ path: 'routes[1].filter.$or[0].$not.type.$exist', message: /expects a boolean/ }]],
    ['empty path segment', { 'data..x': 1 }, [{ path: 'routes[1].filter["data..x"]', message: /path "data..x" has an empty segment/ }]],
    ['trailing dot', { 'data.': 1 }, [{ path: 'routes[1].filter["data."]', message: /empty segment/ }]],
    ['empty key', { '': 1 }, [{ path: 'routes[1].filter[""]', message: /empty segment/ }]],
    ['empty segment in a nested key', { data: { '.x': 1 } }, [{ path: 'routes[1].filter.data[".x"]', message: /empty segment/ }]],
    ['not an object', 'payment.*', [{ path: 'routes[1].filter', message: /a filter must be an object of paths and \$and\/\$or\/\$not, got a string/ }]],
    ['null filter', null, [{ path: 'routes[1].filter', message: /got null/ }]],
    ['array filter', [{ type: 'x' }], [{ path: 'routes[1].filter', message: /got an array/ }]],
    ['mixed operators and paths', { data: { $gte: 1, currency: 'USD' } }, [{ path: 'routes[1].filter.data', message: /the object under data mixes operators \(\$gte\) and paths \(currency\)/ }]],
    ['operator at the top level', { $eq: 'x' }, [{ path: 'routes[1].filter.$eq', message: /operator \$eq needs a path before it/ }]],
    ['unknown combinator', { $andd: [] }, [{ path: 'routes[1].filter.$andd', message: /unknown combinator "\$andd" \(did you mean "\$and"\?\)/ }]],
    ['combinator under a path', { 'data.currency': { $or: ['USD', 'EUR'] } }, [{ path: 'routes[1].filter.data.currency.$or', message: /combinators belong at the top level/ }]],
    ['key that is not an identifier', { 'data.metadata.order-ref': { $gtt: 1 } }, [{ path: 'routes[1].filter["data.metadata.order-ref"].$gtt', message: /unknown operator/ }]],
    [
      'every problem, in order',
      { 'data.a': { $gtt: 1 }, $and: [{ 'data.b': { $exist: 0 } }, 7] },
      [
        { path: 'routes[1].filter.data.a.$gtt', message: /unknown operator/ },
        { path: 'routes[1].filter.$and[0].data.b.$exist', message: /boolean/ },
        { path: 'routes[1].filter.$and[1]', message: /element 1 of \$and/ },
      ],
    ],
  ])('%s', (_name, filter, expected) => {
    const problems = filterProblems(filter, 'routes[1].filter');
    expect(problems.map((problem) => problem.path)).toEqual(expected.map((problem) => problem.path));
    problems.forEach((problem, index) => expect(problem.message).toMatch(expected[index].message));
  });

  test('paths start at the given path, or at the filter itself', () => {
    expect(filterProblems({ 'data.x': { $gtt: 1 } }, '')).toEqual([{ path: 'data.x.$gtt', message: expect.stringContaining('$gtt') as string }]);
    expect(filterProblems({ $and: [1] }, '')[0].path).toBe('$and[0]');
  });
});

describe('explainFilter', () => {
  test.each<[string, RouteFilter, unknown, string | undefined]>([
    ['holds', { 'data.currency': 'USD' }, sample('payment.succeeded'), undefined],
    ['a comparison', { 'data.total_amount': { $gte: 50000 } }, sample('payment.succeeded'), 'data.total_amount is 2999, not $gte 50000'],
    ['a literal is $eq', { 'data.currency': 'EUR' }, sample('payment.succeeded'), 'data.currency is "USD", not $eq "EUR"'],
    ['the first failing operator', { 'data.total_amount': { $gte: 100, $lt: 500 } }, sample('payment.succeeded'), 'data.total_amount is 2999, not $lt 500'],
    ['the first failing key', { type: 'payment.succeeded', 'data.currency': 'EUR', 'data.tax': 1 }, sample('payment.succeeded'), 'data.currency is "USD", not $eq "EUR"'],
    ['a missing path', { 'data.customer.vat_id': { $exist: true } }, sample('payment.succeeded'), 'data.customer.vat_id is missing, not $exist true'],
    ['a null value', { 'data.discount_id': { $startsWith: 'dsc_' } }, sample('payment.succeeded'), 'data.discount_id is null, not $startsWith "dsc_"'],
    ['a value that should be missing', { 'data.currency': { $exist: false } }, sample('payment.succeeded'), 'data.currency is "USD", not $exist false'],
    ['through an array', { 'data.product_cart.product_id': { $in: ['pdt_x'] } }, cart({ product_id: 'pdt_a' }, { quantity: 1 }), 'data.product_cart.product_id is ["pdt_a", missing] (per element), not $in ["pdt_x"]'],
    ['through an empty array', { 'data.refunds.refund_id': 'ref_1' }, sample('payment.succeeded'), 'data.refunds.refund_id is missing, not $eq "ref_1"'],
    ['an array at the end', { 'data.subscription_ids': ['sub_1'] }, sample('payment.succeeded'), 'data.subscription_ids is [], not $eq ["sub_1"]'],
    ['inside $and', { $and: [{ type: 'payment.succeeded' }, { 'data.tax': { $gt: 0 } }] }, sample('payment.succeeded'), 'data.tax is 0, not $gt 0'],
    [
      '$or: every branch',
      { $or: [{ 'data.currency': 'EUR' }, { 'data.total_amount': { $gt: 5000 } }] },
      sample('payment.succeeded'),
      'none of $or holds: data.currency is "USD", not $eq "EUR"; data.total_amount is 2999, not $gt 5000',
    ],
    ['$or: []', { $or: [] }, sample('payment.succeeded'), '$or is empty, and an empty $or holds for no event'],
    ['$not', { $not: { 'data.currency': 'USD' } }, sample('payment.succeeded'), '$not {"data.currency":"USD"} fails, as its filter holds'],
    ['nested paths name the dotted path', { data: { customer: { email: 'bob@example.com' } } }, sample('refund.succeeded'), 'data.customer.email is "ada@example.com", not $eq "bob@example.com"'],
  ])('%s', (_name, filter, envelope, expected) => {
    expect(explainFilter(filter, envelope)).toBe(expected);
  });

  test('long values are cut short', () => {
    const envelope = withData('payment.succeeded', { note: 'x'.repeat(500) });
    const why = explainFilter({ 'data.note': 'y' }, envelope) ?? '';
    expect(why.length).toBeLessThan(120);
    expect(why).toContain('…');
  });
});

describe('filterPaths', () => {
  test('every path once, in order, through combinators and nested objects', () => {
    expect(
      filterPaths({
        type: 'payment.succeeded',
        data: { customer: { email: { $endsWith: '@x.com' } }, 'product_cart.product_id': 'p', metadata: { $eq: {} } },
        $or: [{ 'data.currency': 'USD' }, { $not: { 'data.total_amount': { $gt: 1 } } }],
        $and: [{ type: 'x' }],
      }),
    ).toEqual(['type', 'data.customer.email', 'data.product_cart.product_id', 'data.metadata', 'data.currency', 'data.total_amount']);
  });

  test('{} reads nothing, whether whole or under a path', () => {
    expect(filterPaths({})).toEqual([]);
    expect(filterPaths({ data: {} })).toEqual([]);
  });
});

describe('unknownFilterPaths', () => {
  test.each<[string, RouteFilter, string[], string[]]>([
    ['known payment paths', { 'data.total_amount': { $gte: 1 }, 'data.product_cart.product_id': 'p', type: 'x' }, ['payment.*'], []],
    ['a typo', { 'data.totl_amount': { $gte: 1 } }, ['payment.*'], ['data.totl_amount']],
    ['a path only another family has', { 'data.product_cart.product_id': 'p', 'data.refund_id': 'r' }, ['refund.*'], ['data.product_cart.product_id']],
    ['any matching type having the path is enough', { 'data.refund_id': 'r', 'data.dispute_id': 'd' }, ['refund.*', 'dispute.opened'], []],
    ['inside combinators', { $or: [{ 'data.amount': 1 }, { $not: { 'data.nope': 1 } }] }, ['payout.*'], ['data.nope']],
    ['metadata holds any key', { 'data.metadata.plan_tier': 'pro', 'data.customer.metadata.segment': 'b2b' }, ['subscription.*'], []],
    ['envelope paths always known', { business_id: 'b', timestamp: { $gt: '2026' }, type: 't' }, ['no.such_type'], []],
    ['globs matching no known type: other paths reported', { 'data.x': 1 }, ['no.such_type'], ['data.x']],
    ['legacy payout name', { 'data.payout_id': 'p' }, ['payout.not_initiated'], []],
    ['* matches every type', { 'data.payload_type': 'Payment', 'data.trigger_state': 'x' }, ['*'], []],
  ])('%s', (_name, filter, globs, expected) => {
    expect(unknownFilterPaths(filter, globs)).toEqual(expected);
  });
});
