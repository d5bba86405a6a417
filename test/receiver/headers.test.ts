/**
 * normaliseHeaders: the one header normalisation of the Lambda adapter and `dodo-slack serve`.
 */
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { normaliseHeaders } from '../../lambda/receiver/headers';
import { requestHeaders } from '../../lambda/receiver/handler';

describe('normaliseHeaders', () => {
  test('names are lower-cased, single values kept as they are', () => {
    expect(normaliseHeaders({ 'Webhook-Id': 'msg_1', 'WEBHOOK-TIMESTAMP': '1773480413', 'content-type': 'application/json' })).toEqual({
      'webhook-id': 'msg_1',
      'webhook-timestamp': '1773480413',
      'content-type': 'application/json',
    });
  });

  test('the values of a repeated header are joined with a single space, in order', () => {
    expect(normaliseHeaders({ 'webhook-signature': ['v1,first', 'v1,second', 'v1,third'] })).toEqual({ 'webhook-signature': 'v1,first v1,second v1,third' });
    expect(normaliseHeaders({ 'webhook-signature': ['v1,only'] })).toEqual({ 'webhook-signature': 'v1,only' });
  });

  test('several spellings of one name are one header: their values joined in the order given', () => {
    expect(normaliseHeaders({ 'Webhook-Signature': 'v1,a', 'webhook-signature': ['v1,b', 'v1,c'], 'WEBHOOK-SIGNATURE': 'v1,d' })).toEqual({
      'webhook-signature': 'v1,a v1,b v1,c v1,d',
    });
  });

  test('undefined values and empty lists are no header; empty strings add nothing to a join', () => {
    expect(normaliseHeaders({ 'webhook-id': undefined, 'webhook-signature': [] })).toEqual({});
    expect(normaliseHeaders({ 'webhook-signature': ['', 'v1,a', ''] })).toEqual({ 'webhook-signature': 'v1,a' });
    expect(normaliseHeaders({ 'webhook-id': '' })).toEqual({ 'webhook-id': '' });
    expect(normaliseHeaders({ 'webhook-id': ['', ''] })).toEqual({ 'webhook-id': '' });
  });

  test('with several sources, a name comes from the first source that has it; later ones only fill in', () => {
    const multiValueHeaders = { 'Webhook-Signature': ['v1,a', 'v1,b'], 'webhook-id': [] as string[] };
    const headers = { 'webhook-signature': 'v1,b', 'Webhook-Id': 'msg_1', 'Webhook-Timestamp': '1' };
    expect(normaliseHeaders(multiValueHeaders, headers)).toEqual({ 'webhook-signature': 'v1,a v1,b', 'webhook-id': 'msg_1', 'webhook-timestamp': '1' });
    expect(normaliseHeaders(null, undefined, { A: 'x' })).toEqual({ a: 'x' });
    expect(normaliseHeaders()).toEqual({});
  });

  test('a header named __proto__ is an ordinary entry, not the prototype', () => {
    const source = JSON.parse('{"__proto__": "x", "constructor": ["y"]}') as Record<string, string | string[]>;
    const normalised = normaliseHeaders(source);
    expect(Object.getPrototypeOf(normalised)).toBe(Object.prototype);
    expect(Object.entries(normalised)).toEqual([
      ['__proto__', 'x'],
      ['constructor', 'y'],
    ]);
  });

  test('the input is not modified', () => {
    const source = Object.freeze({ 'Webhook-Signature': Object.freeze(['v1,a', 'v1,b']) });
    expect(normaliseHeaders(source)).toEqual({ 'webhook-signature': 'v1,a v1,b' });
    expect(source).toEqual({ 'Webhook-Signature': ['v1,a', 'v1,b'] });
  });
});

describe('the adapters', () => {
  test("the Lambda adapter reads multiValueHeaders first and headers for the names it lacks", () => {
    expect(
      requestHeaders({
        headers: { 'Webhook-Signature': 'v1,b', 'Webhook-Id': 'msg_1' },
        multiValueHeaders: { 'Webhook-Signature': ['v1,a', 'v1,b'] },
      }),
    ).toEqual({ 'webhook-signature': 'v1,a v1,b', 'webhook-id': 'msg_1' });
    expect(requestHeaders({ headers: { 'Webhook-Id': 'msg_1' }, multiValueHeaders: {} })).toEqual({ 'webhook-id': 'msg_1' });
    // API Gateway sends null for both when a request has no headers at all.
    expect(requestHeaders({ headers: null as never, multiValueHeaders: null as never })).toEqual({});
  });

  test("Node's request.headersDistinct, from real header lines, gives the same as the Lambda adapter", async () => {
    let seen: IncomingMessage | undefined;
    const server = createServer((request, response) => {
      seen = request;
      request.resume();
      request.on('end', () => response.end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await new Promise<void>((resolve, reject) => {
        const request = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'Webhook-Signature': ['v1,first', 'v1,second'], 'Webhook-Id': 'msg_1' } }, (response) => {
          response.resume();
          response.on('end', resolve);
        });
        request.on('error', reject);
        request.end();
      });
      // What server.ts's headersOf did: Node's `headers` joins with ", ".
      expect(seen!.headers['webhook-signature']).toBe('v1,first, v1,second');
      const normalised = normaliseHeaders(seen!.headersDistinct);
      expect(normalised).toMatchObject({ 'webhook-signature': 'v1,first v1,second', 'webhook-id': 'msg_1' });
      expect(normalised).toEqual(
        requestHeaders({
          headers: Object.fromEntries(Object.entries(seen!.headersDistinct).map(([name, values]) => [name, values!.at(-1)])),
          multiValueHeaders: seen!.headersDistinct,
        }),
      );
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
