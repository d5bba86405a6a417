/**
 * Route filters: conditions on a Dodo webhook's envelope (`business_id`, `type`, `timestamp`,
 * `data`) that decide whether a route takes an event.
 */

/** A filter as written in the configuration: JSON whose keys are paths or `$and`/`$or`/`$not`. */
export type RouteFilter = { readonly [key: string]: unknown };
