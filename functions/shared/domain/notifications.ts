import { sha256Hex } from './tokens.js';

export type Severity = 'info' | 'warning' | 'error' | 'critical';

export interface Notification {
  id: string;
  /** null = system-wide (visible to the admin). */
  client_id: string | null;
  type: string;
  severity: Severity;
  message: string;
  agent_id: string | null;
  is_read: boolean;
  created_at: string;
}

/** A stable UUID-shaped id from a dedupe key, so the same fact notifies once (create-if-absent). */
export function dedupeId(dedupeKey: string): string {
  const h = sha256Hex(dedupeKey);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((Number.parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
