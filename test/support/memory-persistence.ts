import { IdempotencyItemAlreadyExistsError, IdempotencyItemNotFoundError, IdempotencyRecordStatus } from '@aws-lambda-powertools/idempotency';
import { BasePersistenceLayer, IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';

/**
 * Test support: Powertools idempotency records in process memory, so the transformer handler's
 * suites run without a DynamoDB stand-in. It applies the same write condition as
 * DynamoDBPersistenceLayer (a new INPROGRESS record may replace an existing one only when that one
 * has expired, or is INPROGRESS past its in-progress expiry), and passes the same RunOnce contract
 * suite as the adapters that ship (test/contracts/run-once.contract.test.ts). It ships in neither engine.
 */
export class MemoryPersistenceLayer extends BasePersistenceLayer {
  private readonly records = new Map<string, IdempotencyRecord>();

  /** Number of stored records (tests). */
  get size(): number {
    return this.records.size;
  }

  // Powertools' persistence methods are async; these work in memory, and settle at once.
  protected _getRecord(idempotencyKey: string): Promise<IdempotencyRecord> {
    const record = this.records.get(idempotencyKey);
    if (!record) return Promise.reject(new IdempotencyItemNotFoundError(`no idempotency record for ${idempotencyKey}`));
    return Promise.resolve(record);
  }

  protected _putRecord(record: IdempotencyRecord): Promise<void> {
    const existing = this.records.get(record.idempotencyKey);
    if (existing && !canReplace(existing)) {
      return Promise.reject(new IdempotencyItemAlreadyExistsError(`idempotency record already exists for ${record.idempotencyKey}`, existing));
    }
    this.records.set(record.idempotencyKey, copy(record));
    return Promise.resolve();
  }

  protected _updateRecord(record: IdempotencyRecord): Promise<void> {
    this.records.set(record.idempotencyKey, copy(record));
    return Promise.resolve();
  }

  protected _deleteRecord(record: IdempotencyRecord): Promise<void> {
    this.records.delete(record.idempotencyKey);
    return Promise.resolve();
  }
}

function canReplace(existing: IdempotencyRecord): boolean {
  const nowMs = Date.now();
  if (existing.expiryTimestamp !== undefined && existing.expiryTimestamp < nowMs / 1000) return true;
  return (
    existing.getStatus() === IdempotencyRecordStatus.INPROGRESS &&
    existing.inProgressExpiryTimestamp !== undefined &&
    existing.inProgressExpiryTimestamp < nowMs
  );
}

/** Stored records must not share state with the objects Powertools keeps mutating. */
function copy(record: IdempotencyRecord): IdempotencyRecord {
  return new IdempotencyRecord({
    idempotencyKey: record.idempotencyKey,
    status: record.getStatus(),
    expiryTimestamp: record.expiryTimestamp,
    inProgressExpiryTimestamp: record.inProgressExpiryTimestamp,
    responseData: record.responseData,
    payloadHash: record.payloadHash,
  });
}
