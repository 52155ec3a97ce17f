import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { cancellationReasons, getItem, putIfAbsent, queryAll, stripKeys, transact, updateItem } from './conditions.js';
import { tableName } from './client.js';
import { keys } from './keys.js';

type TxItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

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

function setStatusTx(uploadId: string, status: UploadStatus, allowedFrom: UploadStatus[], at: string | null): TxItem {
  const values: Record<string, unknown> = { ':status': status, ':one': 1 };
  allowedFrom.forEach((s, i) => {
    values[`:from${i}`] = s;
  });
  const sets = ['#status = :status', '#v = #v + :one'];
  if (at) {
    sets.push('activated_at = :at');
    values[':at'] = at;
  }
  return {
    Update: {
      TableName: tableName(),
      Key: keys.upload(uploadId),
      UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: `#status IN (${allowedFrom.map((_, i) => `:from${i}`).join(', ')})`,
      ExpressionAttributeNames: { '#status': 'status', '#v': 'version' },
      ExpressionAttributeValues: values,
    },
  };
}

/** The pointer update, conditioned on the pointer still naming the active upload the caller read. */
function pointerTx(seen: EnginePointer | undefined, next: { active: string; fallback: string | null; at: string }): TxItem {
  const values: Record<string, unknown> = {
    ':active': next.active,
    ':fallback': next.fallback,
    ':at': next.at,
    ':one': 1,
    ':zero': 0,
    ':entity': 'engine-pointer',
  };
  let condition: string;
  if (seen?.active_upload_id) {
    condition = 'active_upload_id = :seen';
    values[':seen'] = seen.active_upload_id;
  } else {
    condition = '(attribute_not_exists(active_upload_id) OR active_upload_id = :null)';
    values[':null'] = null;
  }
  return {
    Update: {
      TableName: tableName(),
      Key: keys.enginePointer(),
      UpdateExpression:
        'SET active_upload_id = :active, fallback_upload_id = :fallback, activated_at = :at, entity = :entity, #v = if_not_exists(#v, :zero) + :one',
      ConditionExpression: condition,
      ExpressionAttributeNames: { '#v': 'version' },
      ExpressionAttributeValues: values,
    },
  };
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
      condition: { expression: '#c_status = :c_pending', names: { '#c_status': 'status' }, values: { ':c_pending': 'pending' } },
    }).catch(() => undefined); // already moved on: nothing to mark
  },

  /**
   * `upload` becomes active; the previously active one becomes the fallback; the previous fallback
   * is superseded. Returns false when the pointer or a status changed meanwhile (re-read, retry).
   */
  async activate(uploadId: string, seen: EnginePointer | undefined, at: string): Promise<boolean> {
    const prevActive = seen?.active_upload_id ?? null;
    const prevFallback = seen?.fallback_upload_id ?? null;
    const items: TxItem[] = [
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
      if (cancellationReasons(err)) return false;
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
      if (cancellationReasons(err)) return false;
      throw err;
    }
  },
};
