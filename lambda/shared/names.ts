/**
 * Names for the IDs a payload carries: what the Dodo API said about the products and payments an
 * event names, handed to the templates as plain data. Pure: which IDs an event names, and how a
 * product is shown with its name. The look-ups themselves (I/O, caching, time limits) live outside
 * the templates, behind the pipeline's `names` port.
 */
import type { DodoWebhookEnvelope } from './webhook';
import { canonicalEventType } from './event-glob';

/** What the API said about a payment an event only names by ID (an abandoned checkout's). */
export interface KnownPayment {
  readonly totalAmount?: number;
  readonly currency?: string;
  readonly customer?: { readonly customer_id?: string; readonly name?: string; readonly email?: string };
  readonly productCart?: readonly { readonly product_id: string; readonly quantity?: number }[];
}

/** What look-ups found; an ID missing here is shown as the ID alone, as without look-ups. */
export interface KnownNames {
  /** Product ID → the product's name. */
  readonly products?: Readonly<Record<string, string>>;
  /** Payment ID → what the payment says. */
  readonly payments?: Readonly<Record<string, KnownPayment>>;
}

/** The IDs worth a look-up. */
export interface NamesWanted {
  readonly productIds: readonly string[];
  readonly paymentIds: readonly string[];
}

export const NO_NAMES_WANTED: NamesWanted = { productIds: [], paymentIds: [] };

/** At most this many IDs of each kind are looked up for one message (a template lists 5 products). */
export const MAX_IDS_PER_MESSAGE = 10;

/** Dodo's IDs: letters, digits, `_` and `-`; anything else is not sent to the API. */
const ID_SHAPE = /^[A-Za-z0-9_-]{1,100}$/;

function idOf(value: unknown): string | undefined {
  return typeof value === 'string' && ID_SHAPE.test(value) ? value : undefined;
}

/** Product IDs of a payment's `product_cart`. */
export function cartProductIds(cart: unknown): string[] {
  if (!Array.isArray(cart)) return [];
  return cart.map((item) => idOf((item as { product_id?: unknown } | null)?.product_id)).filter((id): id is string => id !== undefined);
}

/** The IDs one event's built-in message would show: cart and subscription products, an abandoned checkout's payment. */
export function namesWanted(envelope: DodoWebhookEnvelope): NamesWanted {
  const data: Record<string, unknown> = typeof envelope.data === 'object' && envelope.data !== null ? envelope.data : {};
  const family = canonicalEventType(typeof envelope.type === 'string' ? envelope.type : '').split('.')[0];
  const productIds: string[] = [];
  const paymentIds: string[] = [];
  if (family === 'payment') productIds.push(...cartProductIds(data.product_cart));
  if (family === 'subscription' || family === 'license_key') {
    const id = idOf(data.product_id);
    if (id) productIds.push(id);
  }
  if (family === 'abandoned_checkout') {
    const id = idOf(data.payment_id);
    if (id) paymentIds.push(id);
  }
  return uniqueWanted(productIds, paymentIds);
}

/** The IDs of several events (a roll-up), each kind capped. */
export function mergeWanted(wanted: readonly NamesWanted[], max = MAX_IDS_PER_MESSAGE): NamesWanted {
  return uniqueWanted(wanted.flatMap((w) => w.productIds), wanted.flatMap((w) => w.paymentIds), max);
}

function uniqueWanted(productIds: readonly string[], paymentIds: readonly string[], max = MAX_IDS_PER_MESSAGE): NamesWanted {
  return { productIds: unique(productIds, max), paymentIds: unique(paymentIds, max) };
}

function unique(ids: readonly string[], max: number): string[] {
  if (ids.length === 0) return [];
  if (ids.length === 1) return [ids[0]];
  return [...new Set(ids)].slice(0, max);
}

export function nothingWanted(wanted: NamesWanted): boolean {
  return wanted.productIds.length === 0 && wanted.paymentIds.length === 0;
}

/** A product's name when a look-up found one (trimmed, never empty). */
export function productName(names: KnownNames | undefined, productId: string): string | undefined {
  const name = names?.products?.[productId];
  return typeof name === 'string' && name.trim() !== '' ? name.trim() : undefined;
}
