/**
 * Typed transformation modules (`export const transform: TypedTransform = …`) bundled by esbuild
 * into dashboard-style code, so one sandbox runs both forms. Used by `Transformation.fromModule`
 * at synth time and by `dodo-slack preview|serve --transform module.ts`.
 */

/** Global the esbuild IIFE of a typed module assigns its exports to (inside the sandbox only). */
const TYPED_MODULE_GLOBAL = '__dodoSlackTypedModule';

interface EsbuildMessage {
  readonly text: string;
  readonly location?: { readonly file: string; readonly line: number; readonly column: number; readonly lineText: string } | null;
}

/**
 * Bundles a typed transformation module into self-contained JavaScript in the dashboard form
 * (a `handler(webhook)` adapter around the module's `transform`), so one runner serves both forms.
 * Also used by the local workbench to preview typed modules.
 */
export function compileTypedModule(modulePath: string): string {
  // Required lazily: only apps that use typed transformations need esbuild at synth time.
  let esbuild: typeof import('esbuild');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy and optional: only typed transformations need esbuild, and its absence is reported below
    esbuild = require('esbuild') as typeof import('esbuild');
  } catch {
    throw new Error(
      `Transformation.fromModule(${JSON.stringify(modulePath)}) needs esbuild to compile the module: ` +
        'run `npm install --save-dev esbuild` in your CDK app (NodejsFunction needs it too, or it bundles with Docker)',
    );
  }
  let bundled: string;
  try {
    const result = esbuild.buildSync({
      entryPoints: [modulePath],
      bundle: true,
      platform: 'node',
      format: 'iife',
      globalName: TYPED_MODULE_GLOBAL,
      target: 'node22',
      write: false,
      logLevel: 'silent',
      legalComments: 'none',
      charset: 'utf8',
    });
    bundled = result.outputFiles[0]?.text ?? '';
  } catch (error) {
    const messages = (error as { errors?: EsbuildMessage[] }).errors ?? [];
    const described = messages.map((message) =>
      message.location
        ? `${message.location.file}:${message.location.line}:${message.location.column}: ${message.text}\n  ${message.location.lineText}`
        : message.text,
    );
    throw new Error(
      `Transformation.fromModule: cannot bundle ${modulePath}:\n${described.length > 0 ? described.join('\n') : String(error)}`,
      { cause: error },
    );
  }
  return `${bundled}
var __dodoSlackTransform = (function (mod) {
  if (mod && typeof mod.transform === 'function') return mod.transform;
  if (mod && typeof mod.default === 'function') return mod.default;
  throw new Error('the module exports no function named "transform" (and no default export)');
})(${TYPED_MODULE_GLOBAL});
function handler(webhook) {
  function apply(message) {
    if (message === undefined) return undefined;
    if (message === null) { webhook.cancel = true; return webhook; }
    webhook.payload = message;
    return webhook;
  }
  var result = __dodoSlackTransform(webhook.payload, { webhookId: webhook.headers['webhook-id'] });
  return result !== null && typeof result === 'object' && typeof result.then === 'function' ? result.then(apply) : apply(result);
}`;
}
