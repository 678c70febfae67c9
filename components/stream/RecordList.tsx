'use client';
import { Badge, Group, Text } from '@mantine/core';
import type { BrowsedRecord } from '@/lib/stream/browse.ts';
import { CodeBlock } from '@/components/ui/CodeBlock.tsx';

export type ShownRecord = BrowsedRecord & { shardId?: string };

/** The envelope fields a row shows, when the record is one; an aggregate shows its envelopes' type (they share it). */
function envelopeOf(r: ShownRecord): { type?: string; id?: string } {
  const aggregate = r.aggregated !== undefined && Array.isArray(r.json);
  const j = (aggregate ? (r.json as unknown[])[0] : r.json) as { type?: unknown; id?: unknown } | undefined;
  return {
    ...(typeof j?.type === 'string' ? { type: j.type } : {}),
    ...(!aggregate && typeof j?.id === 'string' ? { id: j.id } : {}),
  };
}

/** Records of the type (when one is chosen) whose text holds the search (case aside). */
export function matching(records: ShownRecord[], type: string, search: string): ShownRecord[] {
  const needle = search.trim().toLowerCase();
  return records.filter(
    (r) => (!type || envelopeOf(r).type === type) && (!needle || r.text.toLowerCase().includes(needle)),
  );
}

/** The event types among the records, for the type filter. */
export function typesOf(records: ShownRecord[]): string[] {
  return [...new Set(records.map((r) => envelopeOf(r).type).filter((t): t is string => !!t))].sort();
}

/** One compact row per record (time, shard, key, type, id, size) that opens to its data, pretty or raw. */
export function RecordList({ records, raw, testId }: { records: ShownRecord[]; raw: boolean; testId: string }) {
  return (
    <ol className="record-list" data-testid={testId}>
      {records.map((r) => {
        const e = envelopeOf(r);
        const body = r.json !== undefined && !raw ? JSON.stringify(r.json, null, 2) : r.text;
        return (
          <li key={`${r.shardId ?? ''}/${r.sequenceNumber}`} className="record">
            <details>
              <summary>
                <Group gap="xs" wrap="nowrap" component="span" className="record-summary">
                  <Text span size="xs" className="tabular">
                    {r.arrivedAt.replace('T', ' ').replace('Z', '')}
                  </Text>
                  {r.shardId ? (
                    <Text span size="xs" c="dimmed">
                      {r.shardId}
                    </Text>
                  ) : null}
                  {e.type ? (
                    <Badge size="xs" variant="light" color="gray">
                      {e.type}
                    </Badge>
                  ) : null}
                  <Text span size="xs" ff="monospace" className="record-id">
                    {e.id ?? r.partitionKey}
                  </Text>
                  <Text span size="xs" c="dimmed">
                    key {r.partitionKey} · {r.bytes} B
                    {r.aggregated !== undefined
                      ? ` · aggregate of ${r.aggregated.toLocaleString('en-US')} envelopes${
                          Array.isArray(r.json) && r.json.length < r.aggregated
                            ? `, the first ${r.json.length} shown`
                            : ''
                        }`
                      : r.encoding === 'base64'
                        ? ' · not UTF-8 (base64)'
                        : r.json === undefined
                          ? ' · not JSON'
                          : ''}
                  </Text>
                </Group>
              </summary>
              <Text size="xs" c="dimmed" my={4}>
                sequence <code>{r.sequenceNumber}</code>
              </Text>
              <CodeBlock label={`record ${r.sequenceNumber}`}>{body}</CodeBlock>
            </details>
          </li>
        );
      })}
    </ol>
  );
}
