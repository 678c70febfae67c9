import { encodePointer, pointerTokens } from './registry/pointer.ts';
import type { Registry } from './registry/registry.ts';
import type { Actor } from './quarantine/access.ts';

/*
 * Masking of sensitive fields for viewers. A type's manifest marks its sensitive fields by JSON pointer with what
 * they are (`"sensitive": [{"pointer": "/cc_num", "kind": "card"}]`); every route that returns event data passes it
 * through here for a viewer, on the server, so a masked value never reaches the browser. Operators see data in
 * full (and their reads of it are audited). What cannot be located — a payload that is not JSON, an envelope of an
 * unknown type — is withheld whole rather than guessed at.
 */

export type SensitiveKind = 'card' | 'name' | 'email' | 'street' | 'text';
export const SENSITIVE_KINDS: readonly SensitiveKind[] = ['card', 'name', 'email', 'street', 'text'];

/** What a viewer sees instead of a payload that cannot be masked field by field. */
export const WITHHELD = '(withheld: not JSON of a known type; an operator can see it)';
const DOTS = '••••';

/** A value as a viewer sees it: cards keep their last four digits, e-mails their domain, names their initial. */
export function maskValue(kind: SensitiveKind, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  const text = String(value);
  if (!text) return text;
  switch (kind) {
    case 'card': {
      const digits = text.replace(/\D/g, '');
      return digits.length >= 8 ? `${DOTS} ${digits.slice(-4)}` : DOTS;
    }
    case 'name':
      return `${[...text][0]}${DOTS}`;
    case 'email': {
      const at = text.lastIndexOf('@');
      return at > 0 ? `${[...text][0]}${DOTS}${text.slice(at)}` : DOTS;
    }
    default:
      return DOTS;
  }
}

/** Whether an actor sees sensitive fields masked (viewers do). */
export const masksFor = (actor: Actor): boolean => actor.role !== 'operator';

/** The sensitive fields of the shipped types, by type, read from their manifests. */
export class Masker {
  readonly #fields = new Map<string, { tokens: string[]; kind: SensitiveKind }[]>();
  readonly #keyKinds = new Map<string, SensitiveKind>();

  constructor(registry: Registry) {
    for (const name of registry.names()) {
      const t = registry.get(name);
      const fields = (t.manifest.sensitive ?? []).map((f) => ({ tokens: pointerTokens(f.pointer), kind: f.kind }));
      this.#fields.set(name, fields);
      const key = t.manifest.partitionKey?.pointer;
      const keyField = key ? t.manifest.sensitive?.find((f) => f.pointer === key) : undefined;
      if (keyField) this.#keyKinds.set(name, keyField.kind);
    }
  }

  /** The sensitive fields of a type (empty for an unknown type). */
  fields(type: string): readonly { pointer: string; kind: SensitiveKind }[] {
    return (this.#fields.get(type) ?? []).map((f) => ({
      pointer: encodePointer(f.tokens),
      kind: f.kind,
    }));
  }

  /** Whether the type is one the masker knows (its fields can be located). */
  knows(type: unknown): type is string {
    return typeof type === 'string' && this.#fields.has(type);
  }

  /** A copy of an event's data with its type's sensitive fields masked. */
  maskData(type: string, data: unknown): unknown {
    const fields = this.#fields.get(type) ?? [];
    if (!fields.length || !data || typeof data !== 'object') return data;
    const copy = structuredClone(data) as Record<string, unknown>;
    for (const { tokens, kind } of fields) {
      let node: unknown = copy;
      for (const t of tokens.slice(0, -1))
        node = node && typeof node === 'object' ? (node as Record<string, unknown>)[t] : undefined;
      const last = tokens.at(-1)!;
      if (node && typeof node === 'object' && Object.hasOwn(node, last)) {
        const o = node as Record<string, unknown>;
        o[last] = maskValue(kind, o[last]);
      }
    }
    return copy;
  }

  /** A partition key as a viewer sees it: masked when the type's key is a sensitive field (transactions: the card). */
  maskKey(type: unknown, key: string): string {
    if (!this.knows(type)) return key;
    const kind = this.#keyKinds.get(type);
    return kind ? String(maskValue(kind, key)) : key;
  }

  /** An event's text (JSON of a type's data) masked, or {@link WITHHELD} when it is not JSON. */
  maskEventText(type: string | undefined, text: string): string {
    if (!type || !this.knows(type)) return WITHHELD;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return WITHHELD;
    }
    return JSON.stringify(this.maskData(type, value));
  }

  /**
   * A parsed JSON value as a viewer sees it: an envelope (as the stream and the consumers' quarantine carry it) with
   * its data masked by its own type; else the event of `type`, masked; else withheld.
   */
  maskJson(value: unknown, type?: string): unknown {
    const e = value as Record<string, unknown> | null;
    if (
      e &&
      typeof e === 'object' &&
      !Array.isArray(e) &&
      'data' in e &&
      typeof e.type === 'string' &&
      'received_at' in e
    )
      return this.maskEnvelope(e);
    return this.knows(type) ? this.maskData(type, value) : WITHHELD;
  }

  /**
   * An envelope (as JSON) with its data masked by its own type; an envelope of an unknown type keeps its metadata and
   * loses its data.
   */
  maskEnvelope(envelope: unknown): unknown {
    if (!envelope || typeof envelope !== 'object' || Array.isArray(envelope)) return WITHHELD;
    const e = envelope as Record<string, unknown>;
    return { ...e, data: this.knows(e.type) ? this.maskData(e.type, e.data) : WITHHELD };
  }
}
