import { type Masker, WITHHELD } from '../masking.ts';
import type { RedriveSource } from './redrive-prepare.ts';
import type { QuarantineEntry } from './quarantine-index.ts';
import type { QuarantineRecord } from './record.ts';
import type { QuarantineListItem } from './requests.ts';
import { type Filterable, searchText } from './filter.ts';

/**
 * A stored payload as a viewer sees it: an envelope (what a consumer quarantined) with its data masked by its own
 * type, the event of a known type (what ingest quarantined) masked, anything else withheld (lib/masking.ts).
 */
export function maskPayload(
  masker: Masker,
  record: Pick<QuarantineRecord, 'payload' | 'payload_encoding' | 'type'>,
): string {
  if (record.payload_encoding !== 'utf8') return WITHHELD;
  let value: unknown;
  try {
    value = JSON.parse(record.payload);
  } catch {
    return WITHHELD;
  }
  const masked = masker.maskJson(value, record.type);
  return masked === WITHHELD ? WITHHELD : JSON.stringify(masked);
}

/**
 * What a viewer's text search looks in: the masked payload, the id and the errors, so a search for a card number a
 * viewer cannot see finds nothing (it would otherwise tell them the number is there).
 */
export function maskedHaystack(masker: Masker, e: Filterable & { record: QuarantineRecord }): string {
  e.maskedHaystack ??= searchText(e.record, maskPayload(masker, e.record));
  return e.maskedHaystack;
}

/** A list row for a viewer: its preview cut from the masked payload. */
export function maskListItem(masker: Masker, item: QuarantineListItem, entry: QuarantineEntry): QuarantineListItem {
  if (entry.record.payload_encoding !== 'utf8') return item;
  return { ...item, preview: maskPayload(masker, entry.record).slice(0, 160) };
}

/** A record's detail for a viewer: the stored payload and the event to fix, masked. */
export function maskDetail<T extends { entry: QuarantineEntry; source: RedriveSource }>(masker: Masker, detail: T): T {
  const record = { ...detail.entry.record, payload: maskPayload(masker, detail.entry.record) };
  return {
    ...detail,
    entry: { ...detail.entry, record },
    source: { ...detail.source, event: masker.maskEventText(detail.source.type, detail.source.event) },
  };
}
