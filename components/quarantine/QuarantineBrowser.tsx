'use client';
import { useEffect, useState } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Anchor, Button, Checkbox, Grid, Group, NativeSelect, Paper, Text, TextInput, Title } from '@mantine/core';
import { useHotkeys } from '@mantine/hooks';
import { DataTable, type Column } from '@/components/ui/DataTable.tsx';
import { pressShortcut } from '@/components/ui/shortcuts.ts';
import { SavedViews } from '@/components/ui/SavedViews.tsx';
import { Problem } from '@/components/ui/States.tsx';
import { useUrlState } from '@/components/ui/url-state.ts';
import { api } from '../api.ts';
import { type BulkAction, ConfirmBulk } from './ConfirmBulk.tsx';
import { Jobs } from './Jobs.tsx';
import { RecordDetail } from './RecordDetail.tsx';
import {
  EMPTY_FILTER,
  filterFromParams,
  filterQuery,
  type FilterForm,
  type JobState,
  type ListResponse,
  type QuarantineCounts,
  type QuarantineListItem,
} from './types.ts';

interface Props {
  canOperate: boolean;
  exportEnabled: boolean;
  types: string[];
  stages: readonly string[];
  reasons: readonly string[];
}

const PAGE = 50;

function filterBody(f: FilterForm): Record<string, string> {
  return Object.fromEntries(filterQuery(f).entries());
}

/**
 * The quarantine: filters, a newest-first page, selection, bulk re-drive/discard/export, a record's detail, jobs. The
 * filter, the page, the open record and the open job live in the URL, so a pasted link shows the same view.
 */
export function QuarantineBrowser({ canOperate, exportEnabled, types, stages, reasons }: Props) {
  const qc = useQueryClient();
  const url = useUrlState();
  const filter = filterFromParams(Object.fromEntries(url.params), { types, stages, reasons });
  const query = filterQuery(filter);
  const offset = Math.max(0, Math.floor(Number(url.get('offset')) || 0));
  const detail = url.get('record') || null;
  const focusJob = url.get('job') || undefined;
  const [draft, setDraft] = useState<FilterForm>(filter);
  // A link or the browser's back button changes the URL: the form shows what the list shows.
  const filterKey = query.toString();
  // biome-ignore lint/correctness/useExhaustiveDependencies: the key stands for the filter it was made from.
  useEffect(() => setDraft(filter), [filterKey]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [discardReason, setDiscardReason] = useState('');
  const [confirm, setConfirm] = useState<BulkAction | null>(null);
  const list = useQuery({
    queryKey: ['q-list', filterKey, offset],
    queryFn: () => api<ListResponse>(`/api/quarantine?${query}&offset=${offset}&limit=${PAGE}`),
    placeholderData: keepPreviousData,
    refetchInterval: 5000,
  });
  const counts = useQuery({
    queryKey: ['q-counts'],
    queryFn: () => api<QuarantineCounts>('/api/quarantine/counts'),
    refetchInterval: 5000,
  });
  const afterJob = (job: JobState) => {
    url.set({ job: job.id });
    setSelected(new Set());
    void qc.invalidateQueries({ queryKey: ['q-jobs'] });
    void qc.invalidateQueries({ queryKey: ['q-list'] });
  };
  const redrive = useMutation({
    mutationFn: (body: object) =>
      api<JobState>('/api/quarantine/redrive', { method: 'POST', body: JSON.stringify(body) }),
    onSuccess: afterJob,
  });
  const discard = useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      api<{ discarded: number; skipped: number }>('/api/quarantine/discard', {
        method: 'POST',
        body: JSON.stringify(body),
      }),
    onSuccess: () => {
      setSelected(new Set());
      setDiscardReason('');
      void qc.invalidateQueries({ queryKey: ['q-list'] });
    },
  });
  const apply = (f: FilterForm) => {
    const changes: Record<string, string | undefined> = Object.fromEntries(
      Object.keys(EMPTY_FILTER).map((k) => [k, undefined]),
    );
    for (const [k, v] of filterQuery(f)) changes[k] = v;
    // 'open' is the default status: a link without it means the same.
    if (changes.status === EMPTY_FILTER.status) changes.status = undefined;
    url.set({ ...changes, offset: undefined });
    setSelected(new Set());
  };
  const set = (k: keyof FilterForm, v: string) => setDraft((d) => ({ ...d, [k]: v }));
  const select = (k: keyof FilterForm, v: string) => {
    const next = { ...draft, [k]: v };
    setDraft(next);
    apply(next);
  };
  const items = list.data?.items ?? [];
  const total = list.data?.total ?? 0;
  const allOnPage = items.length > 0 && items.every((i) => selected.has(i.qid));
  const toggle = (qid: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(qid)) n.delete(qid);
      else n.add(qid);
      return n;
    });
  // J / K walk the page's records (opening the first when none is open), Esc closes, [ / ] page, Shift R re-drives.
  const step = (by: number) => {
    if (!items.length) return;
    const open = url.now('record');
    const at = items.findIndex((i) => i.qid === open);
    const next = at < 0 ? (by > 0 ? 0 : items.length - 1) : Math.min(items.length - 1, Math.max(0, at + by));
    url.set({ record: items[next]!.qid });
  };
  useHotkeys([
    ['j', () => step(1)],
    ['k', () => step(-1)],
    ['escape', () => url.set({ record: undefined })],
    ['[', () => pressShortcut('newer')],
    [']', () => pressShortcut('older')],
    ['shift+R', () => pressShortcut('redrive-record')],
  ]);
  const columns: Column<QuarantineListItem>[] = [
    {
      id: 'select',
      header: (
        <Checkbox
          aria-label="Select all on this page"
          checked={allOnPage}
          onChange={() => setSelected(allOnPage ? new Set() : new Set(items.map((i) => i.qid)))}
        />
      ),
      cell: (i) => (
        <Checkbox aria-label={`Select ${i.id}`} checked={selected.has(i.qid)} onChange={() => toggle(i.qid)} />
      ),
    },
    {
      id: 'at',
      header: 'quarantined (UTC)',
      sortValue: (i) => i.quarantined_at,
      cell: (i) => (
        <Button variant="subtle" size="compact-xs" onClick={() => url.set({ record: i.qid })}>
          {i.quarantined_at.replace('T', ' ').slice(0, 19)}
        </Button>
      ),
    },
    { id: 'type', header: 'type', sortValue: (i) => i.type, cell: (i) => i.type ?? '—' },
    { id: 'stage', header: 'stage', sortValue: (i) => i.stage, cell: (i) => i.stage },
    { id: 'reason', header: 'reason', sortValue: (i) => i.reason, cell: (i) => i.reason },
    {
      id: 'error',
      header: 'first error',
      sortValue: (i) => i.firstError?.path,
      className: 'wrap',
      cell: (i) =>
        i.firstError ? (
          <span title={i.preview}>
            <code>{i.firstError.path}</code> {i.firstError.message}
            {i.errorCount > 1 ? (
              <Text span size="xs" c="dimmed">
                {' '}
                (+{i.errorCount - 1})
              </Text>
            ) : null}
          </span>
        ) : null,
    },
    { id: 'status', header: 'status', sortValue: (i) => i.status, cell: (i) => i.status },
  ];
  const choice = (values: readonly string[]) => [
    { value: '', label: 'any' },
    ...values.map((v) => ({ value: v, label: v })),
  ];

  return (
    <>
      <Text size="sm" mb="sm" data-testid="q-counts">
        {counts.data ? (
          <>
            <strong>{counts.data.open.toLocaleString()}</strong> open · {counts.data.redriven.toLocaleString()}{' '}
            re-driven · {counts.data.discarded.toLocaleString()} discarded
            {Object.keys(counts.data.byReason).length ? (
              <Text span size="sm" c="dimmed">
                {' '}
                — open by reason:{' '}
                {Object.entries(counts.data.byReason)
                  .map(([r, n]) => `${r} ${n}`)
                  .join(', ')}
              </Text>
            ) : null}
          </>
        ) : (
          'Counting…'
        )}
      </Text>
      <Paper withBorder p="sm" mb="sm">
        {/* biome-ignore lint/a11y/useSemanticElements: a form with role search is the pattern the browser tests and screen readers both know; <search> wrapping a form says the same. */}
        <form
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            apply(draft);
          }}
        >
          <Group align="flex-end" gap="sm">
            <NativeSelect
              label="Type"
              value={draft.type}
              onChange={(e) => select('type', e.currentTarget.value)}
              data={choice(types)}
            />
            <NativeSelect
              label="Stage"
              value={draft.stage}
              onChange={(e) => select('stage', e.currentTarget.value)}
              data={choice(stages)}
            />
            <NativeSelect
              label="Reason"
              value={draft.reason}
              onChange={(e) => select('reason', e.currentTarget.value)}
              data={choice(reasons)}
            />
            <NativeSelect
              label="Status"
              value={draft.status}
              onChange={(e) => select('status', e.currentTarget.value)}
              data={['open', 'redriven', 'discarded', 'all']}
            />
            <TextInput
              type="datetime-local"
              label="From (UTC)"
              value={draft.from}
              onChange={(e) => set('from', e.currentTarget.value)}
            />
            <TextInput
              type="datetime-local"
              label="To (UTC)"
              value={draft.to}
              onChange={(e) => set('to', e.currentTarget.value)}
            />
            <TextInput
              type="search"
              label="Text"
              value={draft.q}
              onChange={(e) => set('q', e.currentTarget.value)}
              placeholder="in payload or error path"
              data-filter-focus
            />
            <Button type="submit">Apply</Button>
            <Button
              variant="default"
              onClick={() => {
                setDraft(EMPTY_FILTER);
                apply(EMPTY_FILTER);
              }}
            >
              Reset
            </Button>
          </Group>
        </form>
        <Group mt="xs">
          <SavedViews
            page="quarantine"
            query={filterQuery(filter).toString()}
            onApply={(q) => {
              const f = filterFromParams(Object.fromEntries(new URLSearchParams(q)), { types, stages, reasons });
              setDraft(f);
              apply(f);
            }}
          />
        </Group>
      </Paper>
      <Group gap="sm" mb="sm" wrap="wrap">
        <Text size="sm" data-testid="q-total" fw={500}>
          {list.isLoading
            ? 'Loading…'
            : total === 0
              ? 'No records match.'
              : `${offset + 1}–${offset + items.length} of ${total.toLocaleString()} matching`}
        </Text>
        <Button.Group>
          <Button
            variant="default"
            size="compact-sm"
            disabled={offset === 0}
            data-shortcut="newer"
            onClick={() => url.set({ offset: Math.max(0, offset - PAGE) || undefined })}
          >
            ← Newer
          </Button>
          <Button
            variant="default"
            size="compact-sm"
            disabled={offset + PAGE >= total}
            data-shortcut="older"
            onClick={() => url.set({ offset: offset + PAGE })}
          >
            Older →
          </Button>
        </Button.Group>
        {canOperate ? (
          <>
            <Button
              size="compact-sm"
              disabled={!selected.size || redrive.isPending}
              onClick={() => setConfirm({ kind: 'redrive', body: { qids: [...selected] } })}
            >
              Re-drive selected ({selected.size})
            </Button>
            <Button
              size="compact-sm"
              disabled={!total || filter.status !== 'open' || redrive.isPending}
              onClick={() => setConfirm({ kind: 'redrive', body: { filter: filterBody(filter) } })}
            >
              Re-drive all {total.toLocaleString()} matching
            </Button>
            <TextInput
              size="xs"
              aria-label="Discard reason"
              value={discardReason}
              onChange={(e) => setDiscardReason(e.currentTarget.value)}
              placeholder="discard reason"
            />
            <Button
              size="compact-sm"
              color="red"
              variant="outline"
              disabled={!selected.size || !discardReason.trim() || discard.isPending}
              onClick={() => setConfirm({ kind: 'discard', body: { qids: [...selected] }, reason: discardReason })}
            >
              Discard selected
            </Button>
            {exportEnabled ? (
              <>
                <Anchor size="sm" href={`/api/quarantine/export?format=jsonl&${query}`} download>
                  Export JSONL
                </Anchor>
                <Anchor size="sm" href={`/api/quarantine/export?format=csv&${query}`} download>
                  Export CSV
                </Anchor>
              </>
            ) : (
              <Text size="sm" c="dimmed">
                Export is switched off.
              </Text>
            )}
          </>
        ) : (
          <Text size="sm" c="dimmed">
            Viewer: re-drive, discard and export need the operator role.
          </Text>
        )}
      </Group>
      {redrive.error || discard.error ? <Problem>{(redrive.error ?? discard.error)!.message}</Problem> : null}
      <ConfirmBulk
        action={confirm}
        onClose={() => setConfirm(null)}
        onConfirm={(a) => {
          setConfirm(null);
          if (a.kind === 'redrive') redrive.mutate(a.body);
          else discard.mutate({ ...a.body, reason: a.reason });
        }}
      />
      <Grid gap="md">
        <Grid.Col span={{ base: 12, lg: detail ? 7 : 12 }}>
          <DataTable
            label="Quarantined records"
            testId="q-table"
            columns={columns}
            rows={list.data ? items : undefined}
            rowKey={(i) => i.qid}
            rowProps={(i) => ({ 'data-qid': i.qid, 'aria-selected': i.qid === detail })}
            loading={list.isLoading}
            error={list.error}
            maxHeight="36rem"
          />
        </Grid.Col>
        {detail ? (
          <Grid.Col span={{ base: 12, lg: 5 }}>
            <Paper withBorder p="sm">
              <RecordDetail
                key={detail}
                qid={detail}
                canOperate={canOperate}
                types={types}
                onJob={afterJob}
                onClose={() => url.set({ record: undefined })}
              />
            </Paper>
          </Grid.Col>
        ) : null}
      </Grid>
      <Title order={2} mt="lg" mb="xs">
        Re-drive jobs
      </Title>
      <Jobs
        canOperate={canOperate}
        {...(focusJob ? { focus: focusJob } : {})}
        onOpen={(id) => url.set({ job: id || undefined })}
      />
    </>
  );
}
