'use client';
import { useEffect, useRef, useState } from 'react';
import { Button, Group, NativeSelect, Text, TextInput } from '@mantine/core';
import type { TailPage } from '@/lib/stream/tail.ts';
import { Empty, Problem } from '@/components/ui/States.tsx';
import { api } from '../api.ts';
import { matching, RecordList, type ShownRecord, typesOf } from './RecordList.tsx';

/** The records kept in the page: the newest, older ones dropped as new ones come. */
export const TAIL_KEEP = 500;
/** Between the end of one poll and the next; with the poll itself, a record shows within about 2 s. */
const POLL_MS = 1_000;

/**
 * The live tail of the whole stream: new records on top as they are accepted, pausable (the position is kept and
 * resumed), filterable by type and text, at most {@link TAIL_KEEP} records in memory.
 */
export function LiveTail({ raw }: { raw: boolean }) {
  const [live, setLive] = useState(false);
  const [records, setRecords] = useState<ShownRecord[]>([]);
  const [dropped, setDropped] = useState(0);
  const [error, setError] = useState<Error | null>(null);
  const [behind, setBehind] = useState(0);
  const [type, setType] = useState('');
  const [search, setSearch] = useState('');
  const cursor = useRef<string | undefined>(undefined);

  useEffect(() => {
    if (!live) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const page = await api<TailPage>('/api/stream/tail', {
          method: 'POST',
          body: JSON.stringify(cursor.current ? { cursor: cursor.current } : {}),
        });
        if (stopped) return;
        cursor.current = page.cursor;
        setError(null);
        setBehind(page.behindMs);
        if (page.records.length) {
          const fresh = [...page.records].reverse();
          setRecords((old) => {
            const all = [...fresh, ...old];
            if (all.length > TAIL_KEEP) setDropped((d) => d + all.length - TAIL_KEEP);
            return all.slice(0, TAIL_KEEP);
          });
        }
      } catch (err) {
        if (!stopped) setError(err as Error);
      }
      if (!stopped) timer = setTimeout(poll, POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [live]);

  const shown = matching(records, type, search);
  return (
    <>
      <Group align="flex-end" gap="sm" mb="xs">
        <Button
          onClick={() => setLive((l) => !l)}
          aria-pressed={live}
          color={live ? 'red' : undefined}
          variant={live ? 'outline' : 'filled'}
          data-testid="tail-toggle"
        >
          {live ? 'Pause' : records.length ? 'Resume live tail' : 'Start live tail'}
        </Button>
        <NativeSelect
          label="Type"
          value={type}
          onChange={(e) => setType(e.currentTarget.value)}
          data={[{ value: '', label: 'any' }, ...typesOf(records).map((t) => ({ value: t, label: t }))]}
        />
        <TextInput
          label="Search the tail"
          type="search"
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          placeholder="text in the record"
        />
        <Button variant="default" onClick={() => setRecords([])} disabled={!records.length}>
          Clear
        </Button>
      </Group>
      <Text size="sm" c="dimmed" mb="xs" data-testid="tail-count" aria-live="polite">
        {live ? 'Live' : records.length ? 'Paused' : 'Stopped'} · {shown.length} shown of {records.length} kept
        {dropped ? ` (the ${TAIL_KEEP} newest; ${dropped} older dropped)` : ''}
        {behind > 0 ? ` · ${Math.round(behind / 1000)} s behind the tip` : ''}
      </Text>
      {error ? <Problem>{error.message} — the tail retries every second.</Problem> : null}
      {records.length ? (
        <RecordList records={shown} raw={raw} testId="tail-records" />
      ) : (
        <Empty>
          {live
            ? 'Waiting for records: produce some with npx tributary produce.'
            : 'Start the live tail to see records as they are accepted, newest on top.'}
        </Empty>
      )}
    </>
  );
}
