import { getItem, putIfAbsent, queryAll, stripKeys, txUpdate, updateItem, where } from './conditions.js';
import { keys } from './keys.js';
import { TransactionConflict, transact, type TxPart, txPart } from './transaction.js';

export type UploadKind = 'model' | 'engine';
export type UploadStatus = 'pending' | 'active' | 'fallback' | 'superseded' | 'failed';

/** A model / engine upload: a JSON parameter bundle (never code), stored in the table. */
export interface Upload {
  upload_id: string;
  kind: UploadKind;
  name: string;
  description: string | null;
  /** The validated parameter set with every default applied (canonical form). */
  parameters: Record<string, unknown>;
  confidence_threshold: number;
  /** sha256 of the canonical JSON of `parameters`. */
  sha256: string;
  status: UploadStatus;
  files: { name: string; sha256: string; bytes: number }[];
  created_at: string;
  activated_at: string | null;
  error: string | null;
  version: number;
}

/** The one pointer item: which upload is active and which one it replaced. */
export interface EnginePointer {
  active_upload_id: string | null;
  fallback_upload_id: string | null;
  activated_at: string | null;
  version: number;
}

const toUpload = (item: Record<string, unknown>) => stripKeys(item) as unknown as Upload;

function setStatusTx(uploadId: string, status: UploadStatus, allowedFrom: UploadStatus[], at: string | null): TxPart {
  return txPart(
    'upload-status',
    txUpdate(keys.upload(uploadId), {
      set: { status, ...(at ? { activated_at: at } : {}) },
      mustExist: false,
      condition: where.in('status', allowedFrom),
    }),
  );
}

/** The pointer update, conditioned on the pointer still naming the active upload the caller read. */
function pointerTx(seen: EnginePointer | undefined, next: { active: string; fallback: string | null; at: string }): TxPart {
  return txPart(
    'engine-pointer',
    txUpdate(keys.enginePointer(), {
      set: { active_upload_id: next.active, fallback_upload_id: next.fallback, activated_at: next.at, entity: 'engine-pointer' },
      mustExist: false,
      condition: where.is('active_upload_id', seen?.active_upload_id ?? null),
    }),
  );
}

/**
 * Upload registry. Items: `UPLOAD#<id>` (GSI1 `UPLOADS` by creation time) and the pointer
 * `ENGINE`/`ACTIVE`. Every activation / fallback is one transaction: the pointer (conditioned on
 * the active upload the caller read) and each upload's status (conditioned on its status), so two
 * concurrent activations cannot both win and statuses never disagree with the pointer.
 */
export const uploadsRepo = {
  async create(upload: Upload): Promise<void> {
    await putIfAbsent({ ...keys.upload(upload.upload_id), ...keys.uploadsIndex(upload.created_at, upload.upload_id), entity: 'upload', ...upload });
  },

  async get(uploadId: string): Promise<Upload | undefined> {
    const item = await getItem(keys.upload(uploadId));
    return item ? toUpload(item) : undefined;
  },

  /** Uploads newest first (bounded: uploads are rare, admin-made). */
  async list(kind?: UploadKind, max = 500): Promise<Upload[]> {
    const items = await queryAll<Record<string, unknown>>(
      {
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': 'UPLOADS', ...(kind ? { ':kind': kind } : {}) },
        ...(kind ? { FilterExpression: 'kind = :kind' } : {}),
        ScanIndexForward: false,
      },
      max,
    );
    return items.map(toUpload);
  },

  async pointer(consistent = true): Promise<EnginePointer | undefined> {
    const item = await getItem<EnginePointer>(keys.enginePointer(), consistent);
    if (!item) return undefined;
    return {
      active_upload_id: item.active_upload_id ?? null,
      fallback_upload_id: item.fallback_upload_id ?? null,
      activated_at: item.activated_at ?? null,
      version: item.version ?? 0,
    };
  },

  /** Marks a pending upload failed (it did not pass the acceptance check). */
  async markFailed(uploadId: string, error: string): Promise<void> {
    await updateItem(keys.upload(uploadId), {
      set: { status: 'failed', error },
      condition: where.eq('status', 'pending'),
    }).catch(() => undefined); // already moved on: nothing to mark
  },

  /**
   * `upload` becomes active; the previously active one becomes the fallback; the previous fallback
   * is superseded. Returns false when the pointer or a status changed meanwhile (re-read, retry).
   */
  async activate(uploadId: string, seen: EnginePointer | undefined, at: string): Promise<boolean> {
    const prevActive = seen?.active_upload_id ?? null;
    const prevFallback = seen?.fallback_upload_id ?? null;
    const items: TxPart[] = [
      pointerTx(seen, { active: uploadId, fallback: prevActive, at }),
      setStatusTx(uploadId, 'active', ['pending', 'fallback', 'superseded'], at),
    ];
    if (prevActive) items.push(setStatusTx(prevActive, 'fallback', ['active'], null));
    if (prevFallback && prevFallback !== uploadId && prevFallback !== prevActive) {
      items.push(setStatusTx(prevFallback, 'superseded', ['fallback'], null));
    }
    try {
      await transact(items);
      return true;
    } catch (err) {
      if (err instanceof TransactionConflict) return false;
      throw err;
    }
  },

  /**
   * Re-activates the fallback: it becomes active, the active one is superseded, and no fallback
   * remains (a second fallback is 422 NO_FALLBACK until another activation). False on a race.
   */
  async fallback(seen: EnginePointer & { active_upload_id: string; fallback_upload_id: string }, at: string): Promise<boolean> {
    try {
      await transact([
        pointerTx(seen, { active: seen.fallback_upload_id, fallback: null, at }),
        setStatusTx(seen.fallback_upload_id, 'active', ['fallback'], at),
        setStatusTx(seen.active_upload_id, 'superseded', ['active'], null),
      ]);
      return true;
    } catch (err) {
      if (err instanceof TransactionConflict) return false;
      throw err;
    }
  },
};
