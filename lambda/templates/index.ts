/**
 * The built-in Slack messages for every Dodo event type (`Transformation.builtin(options)`).
 * Pure, synchronous and deterministic: the same envelope and options give the same message.
 */
import type { BuiltinTemplateOptions, DodoWebhookEnvelope, SlackMessage } from '../core/contracts';
import { canonicalEventType } from '../core/event-glob';
import { renderGeneric } from './generic';

type FamilyRenderer = (envelope: DodoWebhookEnvelope, options: BuiltinTemplateOptions) => SlackMessage;

/** Family (the part of the type before the first dot) → its template. */
const FAMILY_RENDERERS: Readonly<Record<string, FamilyRenderer>> = {};

/** Renders one Dodo event as a Slack message; unknown types get a readable generic message. */
export function renderBuiltinMessage(envelope: DodoWebhookEnvelope, options: BuiltinTemplateOptions = {}): SlackMessage {
  const type = canonicalEventType(typeof envelope.type === 'string' ? envelope.type : '');
  const normalised: DodoWebhookEnvelope = {
    ...envelope,
    type,
    data: typeof envelope.data === 'object' && envelope.data !== null ? envelope.data : {},
  };
  const family = type.split('.')[0] ?? '';
  const renderer = Object.prototype.hasOwnProperty.call(FAMILY_RENDERERS, family) ? FAMILY_RENDERERS[family] : undefined;
  return (renderer ?? renderGeneric)(normalised, options);
}
