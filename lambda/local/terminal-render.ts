/**
 * A readable terminal rendering of a Slack message: what `dodo-slack preview --format text` prints
 * and what `dodo-slack serve` shows when no Slack URL is configured. It is a reading aid, not a
 * Slack emulator: mrkdwn links, mentions and dates become plain text, entities are unescaped, and
 * an attachment's colour becomes the colour of the bar in front of its lines.
 *
 * Pure: no I/O, no environment; the caller decides whether ANSI colours are wanted.
 */

export interface TerminalRenderOptions {
  /** Use ANSI escape codes for bold text and coloured attachment bars. @default false */
  readonly color?: boolean;
}

const ANSI = {
  reset: '\u001b[0m',
  bold: '\u001b[1m',
  dim: '\u001b[2m',
  green: '\u001b[32m',
  yellow: '\u001b[33m',
  red: '\u001b[31m',
  blue: '\u001b[34m',
} as const;

type Json = Record<string, unknown>;

/**
 * C0/C1 control characters (Unicode's Cc: U+0000-U+001F, U+007F-U+009F) other than newline and tab.
 * Payload text (a customer name) reaches the terminal through here, and an escape sequence in it
 * could rewrite the screen or the window title.
 */
const CONTROL_CHARACTERS = /(?![\t\n])\p{Cc}/gu;

/** Text safe to write to a terminal: control characters shown as `?`. */
export function stripControlCharacters(text: string): string {
  return text.replace(CONTROL_CHARACTERS, '?');
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string field of the message, with control characters neutralised (see {@link stripControlCharacters}). */
function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? stripControlCharacters(value) : undefined;
}

/**
 * mrkdwn → plain text: `<url|label>` → `label (url)`, `<!here>` → `@here`, `<@U1>` → `@U1`,
 * `<#C1|general>` → `#general`, `<!date^…|fallback>` → `fallback`, then `&lt;` `&gt;` `&amp;`
 * unescaped (last, so an escaped `&lt;!channel&gt;` from a payload is shown literally and never
 * mistaken for a mention). `*bold*` becomes ANSI bold with colours, plain words without.
 */
export function mrkdwnToText(mrkdwn: string, options: TerminalRenderOptions = {}): string {
  let text = stripControlCharacters(mrkdwn).replace(/<([^<>]*)>/g, (_match, inner: string) => {
    const [target = '', label] = splitOnce(inner, '|');
    if (target.startsWith('!date^')) return label ?? target;
    if (target.startsWith('!subteam^')) return `@${label ?? target.slice('!subteam^'.length)}`;
    if (target.startsWith('!')) return `@${label ?? target.slice(1)}`;
    if (target.startsWith('@')) return `@${label ?? target.slice(1)}`;
    if (target.startsWith('#')) return `#${label ?? target.slice(1)}`;
    return label !== undefined && label !== target ? `${label} (${target})` : target;
  });
  // Like Slack: bold only when the asterisks hug the words (`2 * 3 * 4` stays as it is).
  text = text.replace(/(^|[\s(])\*([^*\s](?:[^*\n]*[^*\s])?)\*(?=$|[\s).,:;!?])/g, (_match, before: string, inner: string) =>
    options.color ? `${before}${ANSI.bold}${inner}${ANSI.reset}` : `${before}${inner}`,
  );
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + separator.length)];
}

/** Text of a `{ type: 'plain_text' | 'mrkdwn', text }` object; plain_text is shown as is. */
function textObject(value: unknown, options: TerminalRenderOptions): string | undefined {
  if (!isObject(value)) return undefined;
  const text = asString(value.text);
  if (text === undefined) return undefined;
  return value.type === 'mrkdwn' ? mrkdwnToText(text, options) : stripControlCharacters(text);
}

function bold(text: string, options: TerminalRenderOptions): string {
  return options.color ? `${ANSI.bold}${text}${ANSI.reset}` : text;
}

function dim(text: string, options: TerminalRenderOptions): string {
  return options.color ? `${ANSI.dim}${text}${ANSI.reset}` : text;
}

/** A field is usually `*Label*\nvalue`: shown as `Label: value` on one line. */
function fieldLine(text: string): string {
  const [label, value] = splitOnce(text, '\n');
  if (value === undefined) return text;
  return `${label}: ${value.replace(/\n/g, '\n    ')}`;
}

function renderBlock(block: unknown, options: TerminalRenderOptions): string[] {
  if (!isObject(block)) return [];
  switch (block.type) {
    case 'header': {
      const text = textObject(block.text, options) ?? '';
      return [bold(text, options), dim('─'.repeat(Math.min(Math.max(text.length, 3), 60)), options)];
    }
    case 'section': {
      const lines: string[] = [];
      const text = textObject(block.text, options);
      if (text !== undefined) lines.push(...text.split('\n'));
      if (Array.isArray(block.fields)) {
        for (const field of block.fields) {
          const fieldText = textObject(field, options);
          if (fieldText !== undefined) lines.push(...fieldLine(fieldText).split('\n').map((line) => `  ${line}`));
        }
      }
      if (isObject(block.accessory) && block.accessory.type === 'button') lines.push(...renderButton(block.accessory, options));
      return lines;
    }
    case 'context': {
      const parts = Array.isArray(block.elements)
        ? block.elements.map((element) =>
            isObject(element) && element.type === 'image' ? `[image: ${asString(element.alt_text) ?? ''}]` : textObject(element, options),
          )
        : [];
      const text = parts.filter((part): part is string => part !== undefined && part !== '').join('  ·  ');
      return text === '' ? [] : [dim(text, options)];
    }
    case 'divider':
      return [dim('─'.repeat(40), options)];
    case 'actions':
      return Array.isArray(block.elements)
        ? block.elements.flatMap((element) => (isObject(element) && element.type === 'button' ? renderButton(element, options) : []))
        : [];
    case 'markdown':
      return (asString(block.text) ?? '').split('\n');
    case 'image':
      return [`[image: ${asString(block.alt_text) ?? ''}] ${asString(block.image_url) ?? ''}`.trimEnd()];
    default:
      return [dim(`[${stripControlCharacters(String(block.type))} block]`, options)];
  }
}

function renderButton(button: Json, options: TerminalRenderOptions): string[] {
  const label = textObject(button.text, options) ?? 'button';
  const url = asString(button.url);
  return [`[ ${label} ]${url ? ` → ${url}` : ''}`];
}

function barColor(color: string | undefined): string {
  switch (color?.toLowerCase()) {
    case 'good':
      return ANSI.green;
    case 'warning':
      return ANSI.yellow;
    case 'danger':
      return ANSI.red;
    default:
      return ANSI.blue;
  }
}

/** The attachment's lines behind a bar; without colours the bar's colour name is written once. */
function renderAttachment(attachment: unknown, options: TerminalRenderOptions): string[] {
  if (!isObject(attachment)) return [];
  const color = asString(attachment.color);
  const lines: string[] = [];
  for (const key of ['pretext', 'title'] as const) {
    const value = asString(attachment[key]);
    if (value) lines.push(mrkdwnToText(value, options));
  }
  if (Array.isArray(attachment.blocks)) {
    for (const block of attachment.blocks) lines.push(...renderBlock(block, options));
  }
  const text = asString(attachment.text);
  if (text) lines.push(...mrkdwnToText(text, options).split('\n'));
  if (Array.isArray(attachment.fields)) {
    for (const field of attachment.fields) {
      if (!isObject(field)) continue;
      lines.push(`  ${asString(field.title) ?? ''}: ${mrkdwnToText(asString(field.value) ?? '', options)}`);
    }
  }
  if (lines.length === 0) {
    const fallback = asString(attachment.fallback);
    if (fallback) lines.push(mrkdwnToText(fallback, options));
  }
  const bar = options.color ? `${barColor(color)}┃${ANSI.reset} ` : '┃ ';
  const header = !options.color && color ? [`${bar}(${color})`] : [];
  return [...header, ...lines.map((line) => `${bar}${line}`)];
}

/**
 * The whole message as terminal text, ending with a newline. Shows `text` first, then top-level
 * blocks, then each attachment behind its bar. Like Slack: without top-level blocks, `text` is the
 * message body and is shown as such; with blocks it is only the notification, so it is dimmed.
 */
export function renderSlackMessageForTerminal(message: unknown, options: TerminalRenderOptions = {}): string {
  if (!isObject(message)) return `${stripControlCharacters(String(message))}\n`;
  const lines: string[] = [];
  const text = asString(message.text);
  const hasBlocks = Array.isArray(message.blocks) && message.blocks.length > 0;
  if (text) {
    const textLines = mrkdwnToText(text, options).split('\n');
    lines.push(...(hasBlocks ? textLines.map((line) => dim(line, options)) : textLines), '');
  }
  if (Array.isArray(message.blocks)) {
    for (const block of message.blocks) lines.push(...renderBlock(block, options));
  }
  if (Array.isArray(message.attachments)) {
    for (const attachment of message.attachments) lines.push(...renderAttachment(attachment, options));
  }
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return `${lines.join('\n')}\n`;
}
