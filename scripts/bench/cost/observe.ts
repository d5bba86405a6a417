/**
 * Counts the AWS requests the handlers really make: every SDK v3 client sends through
 * `NodeHttpHandler`, so wrapping its `handle` sees each request on the wire (service and operation
 * from `x-amz-target`, the JSON body) whoever built the client. DynamoDB writes are sized the way
 * on-demand tables bill them: 1 write unit per started KB of the larger of the item before and
 * after, read back from the emulator by an uncounted client; reads are 1 unit per started 4 KB
 * (strongly consistent) or half that. Also captures the bytes the handlers write to stdout and
 * stderr (what Lambda sends to CloudWatch Logs).
 */
import { DynamoDBClient, DescribeTableCommand, GetItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { AsyncLocalStorage } from 'node:async_hooks';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Calls of one table and operation whose items are read back to size them. */
const SIZED_SAMPLES = 100;

/** What the SDK prints only because the queues live on an emulator (a queue URL host that is not the endpoint's, the Node version notice, a codec warning). */
const EMULATOR_NOTES = /differs from SQSClient resolved endpoint|useQueueUrlAsEndpoint|NodeVersionSupportWarning|JsonCodec2/;

/** Header that marks the model's own look-ups, which are not counted. */
const UNCOUNTED = 'x-cost-model-uncounted';

export interface AwsCall {
  readonly service: string;
  readonly operation: string;
  /** Who made it, as set by `attribute()` around the call (e.g. `receiver`, `transformer`, `event-source`). */
  readonly actor: string;
  readonly writeUnits: number;
  readonly readUnits: number;
  /** Size of the largest item touched (DynamoDB), in bytes. */
  readonly itemBytes: number;
  /** 64 KB chunks of the request body (SQS bills each chunk as a request). */
  readonly chunks: number;
}

interface WireRequest {
  readonly headers: Record<string, string>;
  readonly body?: unknown;
}

/** DynamoDB's item size: attribute names plus values (numbers about 1 byte per 2 digits, containers 3 bytes plus 1 per element). */
export function itemSize(item: Record<string, AttributeValue> | undefined): number {
  if (!item) return 0;
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) bytes += Buffer.byteLength(name) + valueSize(value);
  return bytes;
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return Math.ceil(value.N.replace(/[^0-9]/g, '').length / 2) + 1;
  if (value.B !== undefined) {
    // On the wire (JSON) a binary is base64 text; typed as bytes.
    const binary = value.B as unknown as string | Uint8Array;
    return typeof binary === 'string' ? Buffer.from(binary, 'base64').length : binary.length;
  }
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS) return value.SS.reduce((sum, s) => sum + Buffer.byteLength(s), 0);
  if (value.NS) return value.NS.reduce((sum, n) => sum + Math.ceil(n.length / 2) + 1, 0);
  if (value.L) return 3 + value.L.reduce((sum, element) => sum + 1 + valueSize(element), 0);
  if (value.M) return 3 + Object.entries(value.M).reduce((sum, [name, element]) => sum + 1 + Buffer.byteLength(name) + valueSize(element), 0);
  return 1;
}

export class CallRecorder {
  readonly calls: AwsCall[] = [];
  /** Bytes written to stdout and stderr while capturing, by actor. */
  readonly logBytes = new Map<string, number>();
  /** Custom metrics (namespace, name and dimension values) in the EMF documents written while capturing. */
  readonly metrics = new Set<string>();
  /** Whose calls and log lines these are: set by `as()` for everything `run` starts, concurrent runs apart. */
  private readonly context = new AsyncLocalStorage<{ readonly actor: string; lookupMs: number }>();
  private readonly actor = { getStore: () => this.context.getStore()?.actor };
  private restoreHandle: (() => void) | undefined;
  private restoreOutput: (() => void) | undefined;
  private lookup: DynamoDBClient | undefined;
  private readonly keySchemas = new Map<string, string[]>();
  /**
   * Read items back to size them (the first calls of each table and operation). Off, writes are
   * sized as the largest item seen for that operation so far: for runs whose invocations write
   * concurrently (a roll-up's claims), where the look-ups would overlap the time measured.
   */
  sizeItems = true;
  /** Per table and operation (and per operation, `*:`): calls seen and the largest item size. */
  readonly sized = new Map<string, { count: number; largest: number }>();

  /** Starts counting; `dynamodbEndpoint` is where write sizes are read back from. */
  install(dynamodbEndpoint: string): void {
    this.lookup = new DynamoDBClient({ endpoint: dynamodbEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    this.lookup.middlewareStack.add(
      (next) => (args) => {
        (args.request as WireRequest).headers[UNCOUNTED] = '1';
        return next(args);
      },
      { step: 'build', name: 'costModelUncounted' },
    );
    // eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be called with the handler as `this` (original.call below)
    const original = NodeHttpHandler.prototype.handle;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the wrapper below runs with the handler as `this`
    const recorder = this;
    NodeHttpHandler.prototype.handle = async function (this: NodeHttpHandler, request, options) {
      const wire = request as unknown as WireRequest;
      if (wire.headers[UNCOUNTED]) return original.call(this, request, options);
      const target = wire.headers['x-amz-target'] ?? wire.headers['X-Amz-Target'];
      if (!target) return original.call(this, request, options);
      const actor = recorder.actor.getStore() ?? 'harness';
      const [prefix, operation] = target.split('.');
      const service = prefix.startsWith('DynamoDB') ? 'dynamodb' : prefix === 'AmazonSQS' ? 'sqs' : prefix === 'secretsmanager' ? 'secretsmanager' : prefix;
      const body = typeof wire.body === 'string' ? wire.body : wire.body instanceof Uint8Array ? Buffer.from(wire.body.buffer, wire.body.byteOffset, wire.body.byteLength).toString('utf8') : '';
      const chunks = Math.max(1, Math.ceil(Buffer.byteLength(body) / 65_536));
      if (service !== 'dynamodb') {
        recorder.calls.push({ service, operation, actor, writeUnits: 0, readUnits: 0, itemBytes: 0, chunks });
        return original.call(this, request, options);
      }
      const input = JSON.parse(body || '{}') as { TableName?: string; Key?: Record<string, AttributeValue>; Item?: Record<string, AttributeValue>; ConsistentRead?: boolean };
      // Items are read back for the first SIZED_SAMPLES calls of each table and operation; later ones are taken as the largest seen (a burst makes thousands alike).
      const sample = `${input.TableName}:${operation}`;
      const seen = recorder.sized.get(sample) ?? { count: 0, largest: 0 };
      recorder.sized.set(sample, seen);
      const byOperation = recorder.sized.get(`*:${operation}`) ?? { count: 0, largest: 0 };
      recorder.sized.set(`*:${operation}`, byOperation);
      const measure = recorder.sizeItems && seen.count < SIZED_SAMPLES;
      const key = measure ? (input.Key ?? (input.Item && input.TableName ? await recorder.keyOf(input.TableName, input.Item) : undefined)) : undefined;
      const before = input.TableName && key ? await recorder.sizeOf(input.TableName, key) : 0;
      const response = await original.call(this, request, options);
      const after = input.TableName && key ? await recorder.sizeOf(input.TableName, key) : 0;
      const largest = Math.max(seen.largest, recorder.sizeItems ? 0 : byOperation.largest);
      const written = measure ? Math.max(before, after, itemSize(input.Item)) : Math.max(largest, itemSize(input.Item));
      seen.count += 1;
      seen.largest = Math.max(seen.largest, written, before);
      byOperation.largest = Math.max(byOperation.largest, seen.largest);
      const isWrite = ['PutItem', 'UpdateItem', 'DeleteItem'].includes(operation);
      const isRead = ['GetItem', 'Query', 'Scan'].includes(operation);
      recorder.calls.push({
        service,
        operation,
        actor,
        writeUnits: isWrite ? Math.max(1, Math.ceil(written / 1024)) : 0,
        readUnits: isRead ? Math.max(1, Math.ceil((measure ? before : largest) / 4096)) * (input.ConsistentRead ? 1 : 0.5) : 0,
        itemBytes: written,
        chunks: 1,
      });
      return response;
    };
    this.restoreHandle = () => {
      NodeHttpHandler.prototype.handle = original;
    };
    const restores = [process.stdout, process.stderr].map((stream) => {
      // eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be called with the stream as `this` (write.call below)
      const write = stream.write;
      (stream as { write: unknown }).write = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
        const actor = this.actor.getStore();
        if (actor === undefined) return (write as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
        const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
        // The SDK's notes about the emulators' addresses are not written on AWS.
        if (!EMULATOR_NOTES.test(text)) this.logBytes.set(actor, (this.logBytes.get(actor) ?? 0) + Buffer.byteLength(text));
        if (text.includes('"_aws"')) this.collectMetrics(text);
        const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
        callback?.();
        return true;
      };
      return () => {
        (stream as { write: unknown }).write = write;
      };
    });
    this.restoreOutput = () => restores.forEach((restore) => restore());
  }

  /** Counts the calls and log bytes made while `run` runs (and what it starts) as `actor`'s; its output is kept off the terminal. */
  as<T>(actor: string, run: () => Promise<T>): Promise<T> {
    return this.context.run({ actor, lookupMs: 0 }, run);
  }

  /** Wall time the model's own look-ups took within the current `as()` (not the handler's time: subtracted from its invocation). */
  lookupMs(): number {
    return this.context.getStore()?.lookupMs ?? 0;
  }

  reset(): void {
    this.calls.length = 0;
    this.logBytes.clear();
    this.metrics.clear();
  }

  private collectMetrics(text: string): void {
    for (const line of text.split('\n')) {
      if (!line.includes('"_aws"')) continue;
      let document: { _aws?: { CloudWatchMetrics?: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] } } & Record<string, unknown>;
      try {
        document = JSON.parse(line) as typeof document;
      } catch {
        continue;
      }
      for (const directive of document._aws?.CloudWatchMetrics ?? []) {
        for (const dimensionSet of directive.Dimensions) {
          const dimensions = dimensionSet.map((name) => `${name}=${String(document[name])}`).join(',');
          for (const metric of directive.Metrics) this.metrics.add(`${directive.Namespace}/${metric.Name}{${dimensions}}`);
        }
      }
    }
  }

  uninstall(): void {
    this.restoreHandle?.();
    this.restoreOutput?.();
    this.lookup?.destroy();
  }

  private async keyOf(tableName: string, item: Record<string, AttributeValue>): Promise<Record<string, AttributeValue>> {
    let names = this.keySchemas.get(tableName);
    if (!names) {
      const table = await this.lookup!.send(new DescribeTableCommand({ TableName: tableName }));
      names = (table.Table?.KeySchema ?? []).map((element) => element.AttributeName!);
      this.keySchemas.set(tableName, names);
    }
    return Object.fromEntries(names.map((name) => [name, item[name]]));
  }

  private async sizeOf(tableName: string, key: Record<string, AttributeValue>): Promise<number> {
    const started = performance.now();
    const { Item } = await this.lookup!.send(new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
    const store = this.context.getStore();
    if (store) store.lookupMs += performance.now() - started;
    return itemSize(Item);
  }
}
