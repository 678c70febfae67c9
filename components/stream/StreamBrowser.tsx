'use client';
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import {
  Button,
  Checkbox,
  Group,
  NativeSelect,
  NumberInput,
  Paper,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import type { BrowsedRecord, ShardInfo } from '@/lib/stream/browse.ts';
import { useHotkeys } from '@mantine/hooks';
import { DataTable, type Column } from '@/components/ui/DataTable.tsx';
import { Empty, Loading, Problem } from '@/components/ui/States.tsx';
import { SavedViews } from '@/components/ui/SavedViews.tsx';
import { useUrlState } from '@/components/ui/url-state.ts';
import { api } from '../api.ts';
import { LiveTail } from './LiveTail.tsx';
import { matching, RecordList, typesOf } from './RecordList.tsx';

type Mode = 'latest' | 'timestamp' | 'sequence';
const MODES: Mode[] = ['latest', 'timestamp', 'sequence'];
const DEFAULT_LIMIT = 20;

/** The stream view's filter, as a saved view keeps it (the read switch is not part of it). */
function viewQuery(params: URLSearchParams): string {
  const out = new URLSearchParams();
  for (const k of ['shard', 'from', 'at', 'limit', 'raw']) {
    const v = params.get(k);
    if (v) out.set(k, v);
  }
  return out.toString();
}

function shardColumns(current: string | null, pick: (id: string) => void): Column<ShardInfo>[] {
  return [
    {
      id: 'shard',
      header: 'shard',
      sortValue: (s) => s.id,
      cell: (s) => (
        <Button variant="subtle" size="compact-sm" onClick={() => pick(s.id)} aria-pressed={s.id === current}>
          {s.id}
        </Button>
      ),
    },
    {
      id: 'state',
      header: 'state',
      sortValue: (s) => (s.open ? 'open' : 'closed'),
      cell: (s) => (s.open ? 'open' : 'closed'),
    },
    {
      id: 'hash',
      header: 'hash-key range',
      className: 'wrap',
      cell: (s) => (
        <code>
          {s.hashKeyRange.start} – {s.hashKeyRange.end}
        </code>
      ),
    },
    {
      id: 'seq',
      header: 'sequence range',
      cell: (s) => (
        <code title={`${s.sequenceRange.start} – ${s.sequenceRange.end ?? 'open'}`}>
          …{s.sequenceRange.start.slice(-10)} – {s.sequenceRange.end ? `…${s.sequenceRange.end.slice(-10)}` : 'open'}
        </code>
      ),
    },
    { id: 'parent', header: 'parent', cell: (s) => [s.parent, s.adjacentParent].filter(Boolean).join(', ') || '—' },
    { id: 'children', header: 'children', cell: (s) => s.children.join(', ') || '—' },
  ];
}

/**
 * Shards of the stream and a record browser per shard: newest N, from a time, or from a sequence number. The shard,
 * the read and the raw switch live in the URL (?shard=&from=&at=&limit=&raw=1), so a link shows the same records.
 */
export function StreamBrowser() {
  const url = useUrlState();
  const shards = useQuery({
    queryKey: ['shards'],
    queryFn: () => api<{ stream: string; shards: ShardInfo[] }>('/api/stream/shards'),
    refetchInterval: 10_000,
  });
  const urlMode = url.get('from') as Mode;
  const read = {
    shard: url.get('shard'),
    mode: MODES.includes(urlMode) ? urlMode : 'latest',
    at: url.get('at'),
    limit: Number(url.get('limit')) || DEFAULT_LIMIT,
  };
  const [mode, setMode] = useState<Mode>(read.mode);
  const [at, setAt] = useState(read.at);
  const [limit, setLimit] = useState<number | string>(read.limit);
  // Shown at once, kept in the URL for a reload or a link.
  const [raw, setRaw] = useState(url.get('raw') === '1');
  const [search, setSearch] = useState('');
  const [type, setType] = useState('');
  // A read is asked for once the URL names it (?read=1): opening a shard alone does not read it.
  const requested = url.get('read') === '1' && !!read.shard;
  const records = useQuery({
    queryKey: ['records', read],
    queryFn: () =>
      api<BrowsedRecord[]>(
        `/api/stream/shards/${encodeURIComponent(read.shard)}/records?from=${read.mode}&at=${encodeURIComponent(read.at)}&limit=${read.limit}`,
      ),
    enabled: requested,
  });
  const current = read.shard || shards.data?.shards.find((s) => s.open)?.id || null;
  const columns = shardColumns(current, (id) => url.set({ shard: id, read: undefined }));
  const list = shards.data?.shards ?? [];
  const step = (by: number) => {
    const shown = url.now('shard') || current;
    const at = list.findIndex((s) => s.id === shown);
    const next = list[Math.min(list.length - 1, Math.max(0, at + by))];
    if (next) url.set({ shard: next.id, read: undefined });
  };
  useHotkeys([
    ['j', () => step(1)],
    ['k', () => step(-1)],
  ]);

  return (
    <Stack gap="md">
      <Paper withBorder p="md" component="section" aria-labelledby="shards">
        <Title order={2} id="shards" mb="xs">
          Shards of {shards.data ? <code>{shards.data.stream}</code> : '…'}
        </Title>
        <DataTable
          label="Shards"
          testId="shards"
          columns={columns}
          rows={shards.data?.shards}
          rowKey={(s) => s.id}
          rowProps={(s) => ({ 'aria-selected': s.id === current })}
          loading={shards.isPending}
          loadingText="Listing the shards…"
          error={shards.error}
          empty="The stream has no shards."
        />
      </Paper>
      <Paper withBorder p="md" component="section" aria-labelledby="records">
        <Title order={2} id="records" mb="xs">
          Records of {current ? <code>{current}</code> : '…'}
        </Title>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (current)
              url.set({
                shard: current,
                from: mode === 'latest' ? undefined : mode,
                at: mode === 'latest' ? undefined : at,
                limit: Number(limit) === DEFAULT_LIMIT ? undefined : Number(limit),
                read: 1,
              });
          }}
        >
          <Group align="flex-end" gap="sm">
            <NativeSelect
              label="Read from"
              value={mode}
              onChange={(e) => setMode(e.currentTarget.value as Mode)}
              data={[
                { value: 'latest', label: 'the newest' },
                { value: 'timestamp', label: 'from a time' },
                { value: 'sequence', label: 'from a sequence number' },
              ]}
            />
            {mode !== 'latest' ? (
              <TextInput
                label={mode === 'timestamp' ? 'Time (ISO-8601)' : 'Sequence number'}
                value={at}
                onChange={(e) => setAt(e.currentTarget.value)}
                placeholder={mode === 'timestamp' ? '2026-01-15T10:00:00Z' : '4963…'}
              />
            ) : null}
            <NumberInput label="Number of records" min={1} max={1000} value={limit} onChange={setLimit} w={150} />
            <Button type="submit" disabled={!current}>
              Read
            </Button>
            <Checkbox
              label="raw"
              checked={raw}
              onChange={(e) => {
                setRaw(e.currentTarget.checked);
                url.set({ raw: e.currentTarget.checked ? 1 : undefined });
              }}
              mb={8}
            />
          </Group>
        </form>
        <Group mt="xs">
          <SavedViews
            page="stream"
            query={viewQuery(url.params)}
            onApply={(q) => {
              const v = new URLSearchParams(q);
              const m = v.get('from') as Mode | null;
              setMode(m && MODES.includes(m) ? m : 'latest');
              setAt(v.get('at') ?? '');
              setLimit(Number(v.get('limit')) || DEFAULT_LIMIT);
              setRaw(v.get('raw') === '1');
              url.set({
                shard: v.get('shard'),
                from: v.get('from'),
                at: v.get('at'),
                limit: v.get('limit'),
                raw: v.get('raw'),
                read: v.get('shard') ? 1 : undefined,
              });
            }}
          />
        </Group>
        {records.error ? <Problem>{records.error.message}</Problem> : null}
        {records.isFetching ? <Loading>Reading…</Loading> : null}
        {records.data ? (
          <>
            <Group align="flex-end" gap="sm" my="xs">
              <Text size="sm" c="dimmed" data-testid="records-count">
                {records.data.length} records
              </Text>
              <NativeSelect
                size="xs"
                label="Type"
                value={type}
                onChange={(e) => setType(e.currentTarget.value)}
                data={[{ value: '', label: 'any' }, ...typesOf(records.data).map((t) => ({ value: t, label: t }))]}
              />
              <TextInput
                size="xs"
                type="search"
                label="Search these records"
                value={search}
                onChange={(e) => setSearch(e.currentTarget.value)}
                placeholder="text in the record"
                data-filter-focus
              />
            </Group>
            {records.data.length ? (
              // Newest first, like the live tail.
              <RecordList records={matching([...records.data].reverse(), type, search)} raw={raw} testId="records" />
            ) : (
              <Empty>No records in this shard from there; produce some or read from an earlier point.</Empty>
            )}
          </>
        ) : !requested ? (
          <Text size="sm" c="dimmed" mt="xs">
            Pick a shard and press Read.
          </Text>
        ) : null}
      </Paper>
      <Paper withBorder p="md" component="section" aria-labelledby="tail">
        <Title order={2} id="tail" mb="xs">
          Live tail
        </Title>
        <LiveTail raw={raw} />
      </Paper>
    </Stack>
  );
}
