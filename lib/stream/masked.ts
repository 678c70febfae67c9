import { type Masker, WITHHELD } from '../masking.ts';
import type { BrowsedRecord } from './browse.ts';

/**
 * A stream record as a viewer sees it: an envelope with its data masked by its type and, where the type's partition
 * key is a sensitive field (the card, for transactions), the key masked too; a record that is not an envelope is
 * withheld (its size and place stay).
 */
export function maskRecord<R extends BrowsedRecord>(masker: Masker, r: R): R {
  // A record on the stream has no type of its own: only an envelope says what it holds.
  const json = r.json === undefined ? WITHHELD : masker.maskJson(r.json);
  if (json === WITHHELD) {
    const { json: _json, ...rest } = r;
    return { ...rest, text: WITHHELD, encoding: 'utf8', partitionKey: WITHHELD } as R;
  }
  const e = r.json as { type: string };
  return {
    ...r,
    json,
    text: JSON.stringify(json),
    partitionKey: masker.knows(e.type) ? masker.maskKey(e.type, r.partitionKey) : WITHHELD,
  };
}
