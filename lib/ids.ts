import { createHash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/** A new time-ordered UUIDv7 (ids generated for events without an id field, quarantine objects). */
export function newId(): string {
  return uuidv7();
}

/**
 * A UUID-shaped id derived from its parts, so a retried batch reproduces the same ids (RFC 9562 v8 layout with a
 * SHA-256 body).
 */
export function deterministicId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
