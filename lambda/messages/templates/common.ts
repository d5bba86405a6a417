/**
 * Pieces shared by the family templates: reading payloads defensively, customers (with the
 * masking options), money, products and ids.
 */
import type { BuiltinTemplateOptions } from '../../shared/transformation';
import { formatMinorUnits, formatWithSettlement } from '../money';
import { productName, type KnownNames } from '../../shared/names';
import { code, type DashboardLink, type Fact, join, type Mrkdwn, plain, str } from './layout';

/**
 * A payload typed from the `dodopayments` SDK, but with every field optional and nullable: `data`
 * is the object's latest state and real payloads omit or null fields the SDK marks required.
 * Field names still come from the SDK type, so a misspelt field fails to compile.
 */
export type Loose<T> = { readonly [K in keyof T]?: T[K] | null };

/** Views an envelope's `data` as a loose SDK shape; reads stay defensive (see {@link Loose}). */
export function asLoose<T>(data: Record<string, unknown>): Loose<T> {
  return data as Loose<T>;
}

/** The customer object some families carry (`CustomerLimitedDetails` in the SDK). */
export interface CustomerLike {
  readonly customer_id?: unknown;
  readonly email?: unknown;
  readonly name?: unknown;
}

/** `ada@example.com` → `a***@example.com`; keeps the domain, which support staff use to triage. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${email.charAt(0)}***${email.slice(at)}`;
}

/** How a customer is named in the notification text: name, else email, else nothing. */
export function customerLabel(customer: CustomerLike | null | undefined, options: BuiltinTemplateOptions): string | undefined {
  if (!customer) return undefined;
  const name = options.hideCustomerNames ? undefined : str(customer.name);
  if (name) return name;
  const email = str(customer.email);
  if (email) return options.maskCustomerEmails ? maskEmail(email) : email;
  return undefined;
}

/** The "Customer" fact: name and email, honouring the masking options; undefined when unknown. */
export function customerFact(customer: CustomerLike | null | undefined, options: BuiltinTemplateOptions): Fact {
  const parts: Mrkdwn[] = [];
  if (customer) {
    const name = options.hideCustomerNames ? undefined : str(customer.name);
    const email = str(customer.email);
    if (name) parts.push(plain(name, 500));
    if (email) parts.push(plain(options.maskCustomerEmails ? maskEmail(email) : email, 320));
  }
  return { label: 'Customer', value: parts.length > 0 ? join(parts, '\n') : undefined };
}

/** A money fact; an unknown amount says "unknown" rather than showing `$0.00`. */
export function moneyFact(label: string, amount: unknown, currency: unknown, settlementAmount?: unknown, settlementCurrency?: unknown): Fact {
  const text = settlementCurrency === undefined
    ? formatMinorUnits(amount, currency)
    : formatWithSettlement(amount, currency, settlementAmount, settlementCurrency);
  return { label, value: plain(text ?? 'unknown') };
}

/** A secondary money fact (tax, fees…): left out when missing or zero, which is noise there. */
export function optionalMoneyFact(label: string, amount: unknown, currency: unknown): Fact {
  const text = amount === 0 || amount === '0' ? undefined : formatMinorUnits(amount, currency);
  return { label, value: text === undefined ? undefined : plain(text) };
}

/** A plain fact from a payload value; left out when the value is missing. */
export function textFact(label: string, value: unknown, max?: number): Fact {
  const text = str(value);
  return { label, value: text === undefined ? undefined : plain(text, max) };
}

/** An id fact (`code` formatted); left out when missing. */
export function idFact(label: string, value: unknown): Fact {
  const text = str(value);
  return { label, value: text === undefined ? undefined : code(text) };
}

/** A product as a message shows it: its name with the ID after it when a look-up found the name, else the ID. */
export function productLabel(productId: string, names?: KnownNames): Mrkdwn {
  const name = productName(names, productId);
  return name === undefined ? code(productId) : join([plain(name, 200), `(${code(productId)})` as Mrkdwn]);
}

/** Product ids (with quantities when above one) from a product cart, named when `names` knows them; at most `max` listed. */
export function productsFact(cart: unknown, names?: KnownNames, max = 5): Fact {
  if (!Array.isArray(cart)) return { label: 'Product', value: undefined };
  const items: Mrkdwn[] = [];
  for (const item of cart) {
    if (typeof item !== 'object' || item === null) continue;
    const id = str((item as { product_id?: unknown }).product_id);
    if (!id) continue;
    const quantity = (item as { quantity?: unknown }).quantity;
    const suffix = typeof quantity === 'number' && quantity > 1 ? plain(` × ${quantity}`) : ('' as Mrkdwn);
    items.push(`${productLabel(id, names)}${suffix}` as Mrkdwn);
  }
  if (items.length === 0) return { label: 'Product', value: undefined };
  const shown = items.slice(0, max);
  if (items.length > max) shown.push(plain(`and ${items.length - max} more`));
  return { label: items.length > 1 ? 'Products' : 'Product', value: join(shown, '\n') };
}

/** Joins the parts that are known into one notification line. */
export function sentence(...parts: ReadonlyArray<string | undefined | false>): string {
  return parts.filter((part): part is string => typeof part === 'string' && part.trim() !== '').join(' ');
}

/**
 * Where each object lives in the Dodo dashboard, relative to `dashboardBaseUrl`. Dodo publishes no
 * deep-link scheme; these are the dashboard's page paths. One table, so a change is one edit.
 */
export const DASHBOARD_PAGES = {
  payment: { label: 'Open payment in Dodo', path: ['transactions', 'payments'] },
  refund: { label: 'Open refund in Dodo', path: ['transactions', 'refunds'] },
  dispute: { label: 'Open dispute in Dodo', path: ['transactions', 'disputes'] },
  subscription: { label: 'Open subscription in Dodo', path: ['sales', 'subscriptions'] },
  customer: { label: 'Open customer in Dodo', path: ['sales', 'customers'] },
  licenseKey: { label: 'Open license key in Dodo', path: ['sales', 'license-keys'] },
  payout: { label: 'Open payouts in Dodo', path: ['payouts'] },
} as const;

/** "Open in Dodo" links for the objects whose id is known (ids are URL-encoded by the layout). */
export function dashboardLinks(...targets: ReadonlyArray<readonly [keyof typeof DASHBOARD_PAGES, unknown]>): DashboardLink[] {
  const links: DashboardLink[] = [];
  for (const [kind, id] of targets) {
    const page = DASHBOARD_PAGES[kind];
    if (kind === 'payout') {
      links.push({ label: page.label, segments: [...page.path] });
      continue;
    }
    const text = str(id);
    if (text) links.push({ label: page.label, segments: [...page.path, text] });
  }
  return links;
}
