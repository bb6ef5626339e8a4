import { z } from 'zod';
import { storageType, StorageViewBase } from './resource-types';
import { rpc } from './rpc-route';
import { causedByField, idSchema } from './validation';

/**
 * Apify's record keys: 1–256 characters of `a-zA-Z0-9!-_.'()` — but not `.` or `..`, which every
 * URL parser removes from a path (`/records/..` is the store itself): a record so named could be
 * written by a client that sends the path as is, and read or deleted by none.
 */
export const recordKeySchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[a-zA-Z0-9!\-_.'()]+$/, `may contain only letters, digits and !-_.'()`)
  .refine((key) => key !== '.' && key !== '..', 'cannot be "." or "..": URLs remove them from a path');

/** A MIME type with optional parameters, as sent in a Content-Type header. */
export const recordContentTypeSchema = z
  .string()
  .min(3)
  .max(255)
  .regex(
    // RFC 9110 tokens for type and subtype; parameters in printable ASCII.
    /^[\w!#$%&'*+.^`|~-]+\/[\w!#$%&'*+.^`|~-]+(\s*;[\x20-\x7e]*)?$/,
    'must be a MIME type such as "text/plain"',
  );

/** Apify's limit on one record, equal to the API's body limit. */
export const MAX_RECORD_BYTES = 9 * 1024 * 1024;
const MAX_RECORD_BASE64_CHARS = 4 * Math.ceil(MAX_RECORD_BYTES / 3);

export interface KeyValueStoreView extends StorageViewBase {
  actId: string | null;
  actRunId: string | null;
  stats: { recordCount: number; storageBytes: number };
}

/** Key-value stores: records of any content type under keys. */
export const KEY_VALUE_STORES = storageType<KeyValueStoreView>()({
  type: 'KEY_VALUE_STORE',
  collection: 'key-value-stores',
  idParam: 'storeId',
  underRun: 'key-value-store',
  runDefault: 'defaultKeyValueStoreId',
  createdAs: 'store',
  publicContent: { field: 'keysPublicUrl', path: 'keys' },
});

export interface KeyListView {
  items: { key: string; size: number }[];
  count: number;
  limit: number;
  exclusiveStartKey: string | null;
  isTruncated: boolean;
  nextExclusiveStartKey: string | null;
}

/** A record as it crosses RPC: the bytes base64-encoded, with their content type. */
export interface RecordView {
  key: string;
  contentType: string;
  size: number;
  /** Base64 of the stored bytes. */
  value: string;
}

const storeRef = { id: idSchema };

export const KeyValueStoresRpc = {
  ...KEY_VALUE_STORES.rpc,
  /** Keys in ascending order after `exclusiveStartKey`, optionally only those starting with `prefix`. */
  listKeys: rpc<KeyListView>()(
    'resources',
    'resources.key-value-stores.list-keys',
    z
      .object({
        ...storeRef,
        limit: z.number().int().min(1).max(1000).default(1000),
        exclusiveStartKey: recordKeySchema.optional(),
        prefix: z.string().min(1).max(256).optional(),
      })
      .strict(),
  ),
  getRecord: rpc<RecordView>()(
    'resources',
    'resources.key-value-stores.get-record',
    z.object({ ...storeRef, key: recordKeySchema }).strict(),
  ),
  /** Creates or replaces a record. */
  setRecord: rpc<{ key: string; size: number }>()(
    'resources',
    'resources.key-value-stores.set-record',
    z
      .object({
        ...storeRef,
        key: recordKeySchema,
        contentType: recordContentTypeSchema,
        value: z
          .string()
          .max(MAX_RECORD_BASE64_CHARS, `must be at most ${MAX_RECORD_BYTES} bytes`)
          .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64'),
        ...causedByField,
      })
      .strict(),
  ),
  deleteRecord: rpc<{ ok: true }>()(
    'resources',
    'resources.key-value-stores.delete-record',
    z.object({ ...storeRef, key: recordKeySchema, ...causedByField }).strict(),
  ),
} as const;
