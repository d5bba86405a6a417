/**
 * A real HTTP server on 127.0.0.1 standing in for Dodo's API: `GET /products/{id}` and
 * `GET /payments/{id}` answer with the JSON the `dodopayments` SDK's `Product` and `Payment` types
 * describe (the object itself, no envelope), so the tests go through the real SDK client. It can
 * also answer 500 or 401, or never answer, and records every request (path, Authorization).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as path from 'node:path';
import { omit } from '../../lambda/shared/omit';

export type FakeDodoBehaviour = 'ok' | 'error-500' | 'unauthorized' | 'hang';

export interface FakeDodoRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
}

/** A product as `GET /products/{id}` returns it (the SDK's `Product`). */
export function productJson(productId: string, name: string): Record<string, unknown> {
  return {
    brand_id: 'brnd_8dFiAW42v28JzhlVSocjq',
    business_id: 'bus_P6T3UCkJVGlGNP9WcM3ZD',
    created_at: '2026-01-05T10:00:00.000Z',
    credit_entitlements: [],
    entitlements: [],
    is_recurring: false,
    license_key_enabled: false,
    metadata: {},
    price: { type: 'one_time_price', currency: 'USD', price: 2999, discount: 0, purchasing_power_parity: false },
    product_id: productId,
    tax_category: 'saas',
    updated_at: '2026-02-01T10:00:00.000Z',
    addons: null,
    description: 'Everything in Starter, plus priority support.',
    digital_product_delivery: null,
    image: null,
    license_key_activation_message: null,
    license_key_activations_limit: null,
    license_key_duration: null,
    name,
  };
}

/** A payment as `GET /payments/{id}` returns it: the payment.succeeded fixture's data with its own id, cart and customer. */
export function paymentJson(paymentId: string, options: { readonly productIds: readonly string[]; readonly totalAmount?: number; readonly customerName?: string }): Record<string, unknown> {
  const fixture = JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'dodo', 'payment.succeeded.json'), 'utf8')) as { data: Record<string, unknown> };
  return {
    ...omit(fixture.data, 'payload_type'),
    payment_id: paymentId,
    status: 'failed',
    total_amount: options.totalAmount ?? 4900,
    customer: { customer_id: 'cus_2bQ7xN1mKp9sVt4LwZ8Ya', email: 'grace@example.com', name: options.customerName ?? 'Grace Hopper', metadata: {}, phone_number: null },
    product_cart: options.productIds.map((product_id) => ({ product_id, quantity: 1 })),
  };
}

export class FakeDodoApi {
  readonly requests: FakeDodoRequest[] = [];
  behaviour: FakeDodoBehaviour = 'ok';
  /** When set, a request with another key is answered 401 (a rotated or revoked key). */
  acceptedKey: string | undefined;
  private readonly products = new Map<string, Record<string, unknown>>();
  private readonly payments = new Map<string, Record<string, unknown>>();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;

  product(productId: string, name: string): this {
    this.products.set(productId, productJson(productId, name));
    return this;
  }

  payment(paymentId: string, body: Record<string, unknown>): this {
    this.payments.set(paymentId, body);
    return this;
  }

  /** Requests for one path (e.g. `/products/pdt_X`). */
  requestsFor(pathname: string): FakeDodoRequest[] {
    return this.requests.filter((request) => request.path === pathname);
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      const pathname = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
      this.requests.push({ method: request.method ?? '', path: pathname, authorization: request.headers.authorization });
      request.resume();
      if (this.behaviour === 'hang') return; // never answers; the socket is closed by stop()
      const json = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (this.behaviour === 'error-500') return json(500, { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' });
      if (this.behaviour === 'unauthorized' || (this.acceptedKey !== undefined && request.headers.authorization !== `Bearer ${this.acceptedKey}`)) {
        return json(401, { code: 'UNAUTHORIZED', message: 'Unauthorized' });
      }
      const match = /^\/(products|payments)\/([^/]+)$/.exec(pathname);
      const found = match && request.method === 'GET' ? (match[1] === 'products' ? this.products : this.payments).get(decodeURIComponent(match[2])) : undefined;
      if (found === undefined) return json(404, { code: 'NOT_FOUND', message: 'Not found' });
      return json(200, found);
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
