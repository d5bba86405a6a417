/**
 * Checks a Slack incoming-webhook message against the limits Slack enforces (or silently cuts), so
 * a message that Slack would reject with `invalid_payload` is caught before it is posted. Used for
 * the built-in templates and for the output of user transformations alike.
 *
 * Limits from https://docs.slack.dev/reference/block-kit/blocks and the message/attachment references.
 */

export const SlackLimits = {
  messageText: 40_000,
  blocks: 50,
  attachments: 100,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonUrl: 3000,
  buttonValue: 2000,
  blockId: 255,
  textObject: 3000,
  markdownBlockText: 12_000,
  imageUrl: 3000,
  imageAltText: 2000,
} as const;

/** Block types Slack documents (the `KnownBlock` union of @slack/types 3.2.0). */
const KNOWN_BLOCK_TYPES: ReadonlySet<string> = new Set([
  'actions', 'alert', 'card', 'carousel', 'container', 'context', 'context_actions', 'data_table',
  'divider', 'file', 'header', 'image', 'input', 'markdown', 'rich_text', 'section', 'table',
  'task_card', 'plan', 'video',
]);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/** Problems with one text object (`{ type: 'plain_text' | 'mrkdwn', text }`). */
function checkTextObject(value: unknown, where: string, max: number, problems: string[], plainOnly = false): void {
  if (!isObject(value)) {
    problems.push(`${where} must be a text object, got ${describe(value)}`);
    return;
  }
  const type = value.type;
  if (plainOnly ? type !== 'plain_text' : type !== 'plain_text' && type !== 'mrkdwn') {
    problems.push(`${where}.type must be ${plainOnly ? '"plain_text"' : '"plain_text" or "mrkdwn"'}, got ${JSON.stringify(type)}`);
  }
  if (typeof value.text !== 'string') {
    problems.push(`${where}.text must be a string, got ${describe(value.text)}`);
  } else if (value.text.length === 0) {
    problems.push(`${where}.text must not be empty`);
  } else if (value.text.length > max) {
    problems.push(`${where}.text is ${value.text.length} characters, Slack allows ${max}`);
  }
}

function checkButton(element: Json, where: string, problems: string[]): void {
  checkTextObject(element.text, `${where}.text`, SlackLimits.buttonText, problems, true);
  if (element.url !== undefined) {
    if (typeof element.url !== 'string' || !/^https?:\/\//i.test(element.url)) {
      problems.push(`${where}.url must be an http(s) URL`);
    } else if (element.url.length > SlackLimits.buttonUrl) {
      problems.push(`${where}.url is ${element.url.length} characters, Slack allows ${SlackLimits.buttonUrl}`);
    }
  }
  if (typeof element.value === 'string' && element.value.length > SlackLimits.buttonValue) {
    problems.push(`${where}.value is ${element.value.length} characters, Slack allows ${SlackLimits.buttonValue}`);
  }
}

function checkBlock(block: unknown, where: string, problems: string[]): void {
  if (!isObject(block)) {
    problems.push(`${where} must be an object, got ${describe(block)}`);
    return;
  }
  const type = block.type;
  if (typeof type !== 'string' || !KNOWN_BLOCK_TYPES.has(type)) {
    problems.push(`${where} has unknown block type ${JSON.stringify(type)}`);
    return;
  }
  if (block.block_id !== undefined && (typeof block.block_id !== 'string' || block.block_id.length > SlackLimits.blockId)) {
    problems.push(`${where}.block_id must be a string of at most ${SlackLimits.blockId} characters`);
  }
  switch (type) {
    case 'section': {
      const hasText = block.text !== undefined;
      const fields = block.fields;
      if (!hasText && fields === undefined) problems.push(`${where} (section) needs text or fields`);
      if (hasText) checkTextObject(block.text, `${where}.text`, SlackLimits.sectionText, problems);
      if (fields !== undefined) {
        if (!Array.isArray(fields) || fields.length === 0) {
          problems.push(`${where}.fields must be a non-empty array`);
        } else {
          if (fields.length > SlackLimits.sectionFields) {
            problems.push(`${where} has ${fields.length} fields, Slack allows ${SlackLimits.sectionFields}`);
          }
          fields.forEach((field, i) => checkTextObject(field, `${where}.fields[${i}]`, SlackLimits.sectionFieldText, problems));
        }
      }
      break;
    }
    case 'header':
      checkTextObject(block.text, `${where}.text`, SlackLimits.headerText, problems, true);
      break;
    case 'context': {
      const elements = block.elements;
      if (!Array.isArray(elements) || elements.length === 0) {
        problems.push(`${where}.elements must be a non-empty array`);
      } else {
        if (elements.length > SlackLimits.contextElements) {
          problems.push(`${where} has ${elements.length} elements, Slack allows ${SlackLimits.contextElements}`);
        }
        elements.forEach((element, i) => {
          if (isObject(element) && element.type === 'image') return;
          checkTextObject(element, `${where}.elements[${i}]`, SlackLimits.textObject, problems);
        });
      }
      break;
    }
    case 'actions': {
      const elements = block.elements;
      if (!Array.isArray(elements) || elements.length === 0) {
        problems.push(`${where}.elements must be a non-empty array`);
      } else {
        if (elements.length > SlackLimits.actionsElements) {
          problems.push(`${where} has ${elements.length} elements, Slack allows ${SlackLimits.actionsElements}`);
        }
        elements.forEach((element, i) => {
          if (!isObject(element)) problems.push(`${where}.elements[${i}] must be an object`);
          else if (element.type === 'button') checkButton(element, `${where}.elements[${i}]`, problems);
        });
      }
      break;
    }
    case 'markdown':
      if (typeof block.text !== 'string' || block.text.length === 0) {
        problems.push(`${where}.text must be a non-empty string`);
      } else if (block.text.length > SlackLimits.markdownBlockText) {
        problems.push(`${where}.text is ${block.text.length} characters, Slack allows ${SlackLimits.markdownBlockText}`);
      }
      break;
    case 'image':
      if (typeof block.image_url === 'string' && block.image_url.length > SlackLimits.imageUrl) {
        problems.push(`${where}.image_url is ${block.image_url.length} characters, Slack allows ${SlackLimits.imageUrl}`);
      }
      if (typeof block.alt_text !== 'string' || block.alt_text.length > SlackLimits.imageAltText) {
        problems.push(`${where}.alt_text must be a string of at most ${SlackLimits.imageAltText} characters`);
      }
      break;
    default:
      break;
  }
}

function checkBlockList(blocks: unknown, where: string, problems: string[]): number {
  if (!Array.isArray(blocks)) {
    problems.push(`${where} must be an array, got ${describe(blocks)}`);
    return 0;
  }
  blocks.forEach((block, i) => checkBlock(block, `${where}[${i}]`, problems));
  return blocks.length;
}

/**
 * Every reason Slack would reject (or mangle) `message`, as human-readable sentences; empty when
 * the message is valid. Never includes message text beyond short type names, so it is safe to log.
 */
export function validateSlackMessage(message: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(message)) return [`a Slack message must be an object, got ${describe(message)}`];

  const { text, blocks, attachments } = message;
  if (text !== undefined && typeof text !== 'string') problems.push(`text must be a string, got ${describe(text)}`);
  if (typeof text === 'string' && text.length > SlackLimits.messageText) {
    problems.push(`text is ${text.length} characters, Slack allows ${SlackLimits.messageText}`);
  }

  let blockCount = 0;
  if (blocks !== undefined) blockCount += checkBlockList(blocks, 'blocks', problems);

  let hasAttachmentContent = false;
  if (attachments !== undefined) {
    if (!Array.isArray(attachments)) {
      problems.push(`attachments must be an array, got ${describe(attachments)}`);
    } else {
      if (attachments.length > SlackLimits.attachments) {
        problems.push(`${attachments.length} attachments, Slack allows ${SlackLimits.attachments}`);
      }
      attachments.forEach((attachment, i) => {
        const where = `attachments[${i}]`;
        if (!isObject(attachment)) {
          problems.push(`${where} must be an object, got ${describe(attachment)}`);
          return;
        }
        if (attachment.blocks !== undefined) blockCount += checkBlockList(attachment.blocks, `${where}.blocks`, problems);
        if (attachment.color !== undefined && (typeof attachment.color !== 'string' ||
            !/^(good|warning|danger|#?[0-9a-f]{6})$/i.test(attachment.color))) {
          problems.push(`${where}.color must be "good", "warning", "danger" or a hex colour`);
        }
        if (attachment.text !== undefined && typeof attachment.text !== 'string') {
          problems.push(`${where}.text must be a string`);
        }
        const hasBlocks = Array.isArray(attachment.blocks) && attachment.blocks.length > 0;
        const hasText = ['text', 'fallback', 'pretext', 'title'].some(
          (key) => typeof attachment[key] === 'string' && (attachment[key]).length > 0,
        );
        const hasFields = Array.isArray(attachment.fields) && attachment.fields.length > 0;
        if (hasBlocks || hasText || hasFields) hasAttachmentContent = true;
        else problems.push(`${where} has no blocks, text or fields`);
      });
    }
  }

  if (blockCount > SlackLimits.blocks) {
    problems.push(`${blockCount} blocks in all (including attachments), Slack allows ${SlackLimits.blocks}`);
  }
  const hasText = typeof text === 'string' && text.trim().length > 0;
  const hasBlocks = Array.isArray(blocks) && blocks.length > 0;
  if (!hasText && !hasBlocks && !hasAttachmentContent) {
    problems.push('a Slack message needs a non-empty text, blocks or attachments');
  }
  return problems;
}
