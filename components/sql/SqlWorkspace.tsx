'use client';
import { useEffect, useRef, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  Anchor,
  Button,
  Checkbox,
  Grid,
  Group,
  NativeSelect,
  Paper,
  Stack,
  Text,
  TextInput,
  Title,
  UnstyledButton,
} from '@mantine/core';
import { useHotkeys } from '@mantine/hooks';
import { DataTable, type Column } from '@/components/ui/DataTable.tsx';
import { Problem } from '@/components/ui/States.tsx';
import { useUrlState } from '@/components/ui/url-state.ts';
import { ResultChart } from './ResultChart.tsx';
import { summarizeSql } from '@/lib/query/sql.ts';
import { SqlEditor } from './SqlEditor.tsx';
import {
  api,
  formatBytes,
  isFinalState,
  type CatalogTable,
  type Cell,
  type ParamDef,
  type QueryInfo,
  type ResultPage,
  type SavedQueryInfo,
} from '../api.ts';

const PAGE = 100;
const DEFAULT_SQL =
  "SELECT category, count(*) AS n, round(sum(amt), 2) AS amount\nFROM transactions\nWHERE dt >= '2026-01-01'\nGROUP BY category\nORDER BY n DESC";

function cellText(v: Cell): string {
  if (v === null) return 'NULL';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function ParamInput({ def, value, onChange }: { def: ParamDef; value: string; onChange: (v: string) => void }) {
  const label = `${def.name} (${def.type})`;
  if (def.type === 'enum')
    return (
      <NativeSelect
        size="xs"
        label={label}
        value={value}
        onChange={(e) => onChange(e.currentTarget.value)}
        data={def.values}
      />
    );
  if (def.type === 'daterange') {
    const [from = '', to = ''] = value.split('..');
    return (
      <Group gap={4} align="flex-end">
        <TextInput
          size="xs"
          label={`${def.name} from`}
          value={from}
          placeholder="YYYY-MM-DD"
          onChange={(e) => onChange(`${e.currentTarget.value}..${to}`)}
        />
        <TextInput
          size="xs"
          label={`${def.name} to`}
          value={to}
          placeholder="YYYY-MM-DD"
          onChange={(e) => onChange(`${from}..${e.currentTarget.value}`)}
        />
      </Group>
    );
  }
  return (
    <TextInput
      size="xs"
      label={label}
      type={def.type === 'number' ? 'number' : 'text'}
      value={value}
      placeholder={def.type === 'date' ? 'YYYY-MM-DD or today-7d' : ''}
      onChange={(e) => onChange(e.currentTarget.value)}
    />
  );
}

const HISTORY_COLUMNS = (load: (h: QueryInfo) => void): Column<QueryInfo>[] => [
  {
    id: 'at',
    header: 'submitted (UTC)',
    sortValue: (h) => h.submittedAt,
    cell: (h) => h.submittedAt.replace('T', ' ').slice(0, 19),
  },
  { id: 'by', header: 'by', sortValue: (h) => h.by, cell: (h) => h.by ?? '' },
  { id: 'state', header: 'state', sortValue: (h) => h.state, cell: (h) => h.state },
  {
    id: 'scanned',
    header: 'scanned',
    numeric: true,
    sortValue: (h) => h.bytesScanned,
    cell: (h) => formatBytes(h.bytesScanned),
  },
  {
    id: 'sql',
    header: 'query',
    className: 'wrap',
    cell: (h) => (
      <UnstyledButton className="history-load" onClick={() => load(h)} title="Open this run: its SQL and its results">
        {h.saved ? `[${h.saved}] ` : ''}
        {summarizeSql(h.sql)}
      </UnstyledButton>
    ),
  },
];

/**
 * The SQL workspace: editor, saved queries with a parameter form, run/cancel, status and cost, paged results, CSV,
 * chart, history. The run shown is the URL's (?query=<id>), so a pasted link opens the same query and its results.
 */
export function SqlWorkspace({ canLiftGuard }: { canLiftGuard: boolean }) {
  const qc = useQueryClient();
  const url = useUrlState();
  const id = url.get('query') || null;
  const [sql, setSql] = useState(DEFAULT_SQL);
  const [saved, setSaved] = useState<SavedQueryInfo | null>(null);
  const [params, setParams] = useState<Record<string, string>>({});
  const [allowFullScan, setAllowFullScan] = useState(false);
  const [tokens, setTokens] = useState<string[]>([]);
  const [now, setNow] = useState(() => Date.now());
  // The SQL of the run a link opened goes into the editor once, not again on every poll.
  const loadedFor = useRef<string | null>(null);

  const catalog = useQuery({ queryKey: ['catalog'], queryFn: () => api<CatalogTable[]>('/api/catalog') });
  const savedList = useQuery({
    queryKey: ['saved-queries'],
    queryFn: () => api<SavedQueryInfo[]>('/api/saved-queries'),
  });
  const history = useQuery({ queryKey: ['history'], queryFn: () => api<QueryInfo[]>('/api/queries?limit=20') });
  const status = useQuery({
    queryKey: ['query', id],
    queryFn: () => api<QueryInfo>(`/api/queries/${encodeURIComponent(id!)}`),
    enabled: !!id,
    refetchInterval: (q) => (isFinalState(q.state.data?.state) ? false : 300),
  });
  const state = status.data?.state;
  const token = tokens[tokens.length - 1];
  const results = useQuery({
    queryKey: ['results', id, token ?? ''],
    queryFn: () =>
      api<ResultPage>(
        `/api/queries/${encodeURIComponent(id!)}/results?maxResults=${PAGE}${token ? `&nextToken=${encodeURIComponent(token)}` : ''}`,
      ),
    enabled: !!id && state === 'SUCCEEDED',
  });

  useEffect(() => {
    if (isFinalState(state)) void qc.invalidateQueries({ queryKey: ['history'] });
  }, [state, qc]);
  useEffect(() => {
    if (!id || isFinalState(state)) return;
    const t = setInterval(() => setNow(Date.now()), 200);
    return () => clearInterval(t);
  }, [id, state]);
  useEffect(() => {
    if (status.data && loadedFor.current !== status.data.id) {
      loadedFor.current = status.data.id;
      setSql(status.data.sql);
    }
  }, [status.data]);

  const start = useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      api<QueryInfo>('/api/queries', { method: 'POST', body: JSON.stringify(body) }),
    // A refused query leaves nothing of the run before it on screen: its status and rows belong to other SQL.
    onError: () => url.set({ query: undefined }),
    onSuccess: (info) => {
      setTokens([]);
      // The editor already holds this run's SQL (or the saved query it expanded from).
      loadedFor.current = info.id;
      url.set({ query: info.id });
    },
  });
  const cancel = useMutation({
    mutationFn: () => api<QueryInfo>(`/api/queries/${encodeURIComponent(id!)}`, { method: 'DELETE' }),
    onSuccess: () => void status.refetch(),
  });

  const running = !!id && !!status.data && !isFinalState(state);
  const run = () => {
    if (running) return;
    const lift = canLiftGuard && allowFullScan;
    if (saved && sql === saved.sql) start.mutate({ saved: saved.name, params, allowFullScan: lift, via: 'console' });
    else start.mutate({ sql, allowFullScan: lift, via: 'console' });
  };
  const pick = (q: SavedQueryInfo) => {
    setSaved(q);
    setSql(q.sql);
    setParams(Object.fromEntries(q.params.map((p) => [p.name, p.default === undefined ? '' : String(p.default)])));
  };
  const load = (h: QueryInfo) => {
    setSaved(null);
    setTokens([]);
    url.set({ query: h.id });
  };
  // Outside the editor too (the editor binds Ctrl/⌘ Enter itself); Shift C cancels.
  useHotkeys([
    ['mod+Enter', run],
    ['shift+C', () => running && cancel.mutate()],
  ]);
  // A link from the palette: ?saved=<name> opens a saved query's form, ?table=<name> a query on a table; from another
  // page, ?sql=<text> puts a query in the editor (it runs only when the user runs it).
  const savedParam = url.get('saved');
  const tableParam = url.get('table');
  const sqlParam = url.get('sql');
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the link arrives; url.set reads the URL as it is then.
  useEffect(() => {
    if (!sqlParam) return;
    setSaved(null);
    setTokens([]);
    setSql(sqlParam);
    url.set({ sql: undefined, query: undefined });
  }, [sqlParam]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the link or the list arrives; pick and url.set read only state that is current then.
  useEffect(() => {
    const q = savedParam ? savedList.data?.find((s) => s.name === savedParam) : undefined;
    if (q) {
      pick(q);
      url.set({ saved: undefined });
    }
  }, [savedParam, savedList.data]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the link or the catalog arrives.
  useEffect(() => {
    const t = tableParam ? catalog.data?.find((c) => c.name === tableParam) : undefined;
    if (!t) return;
    const dated = t.columns.some((c) => c.name === 'dt' && c.partition);
    setSaved(null);
    setSql(
      `SELECT *\nFROM ${t.name}${dated ? `\nWHERE dt = '${new Date().toISOString().slice(0, 10)}'` : ''}\nLIMIT 100`,
    );
    url.set({ table: undefined });
  }, [tableParam, catalog.data]);
  const info = status.data;
  const elapsed = info
    ? isFinalState(info.state)
      ? info.elapsedMs
      : Math.max(info.elapsedMs, now - Date.parse(info.submittedAt))
    : 0;
  const page = results.data;
  const resultColumns: Column<Cell[]>[] = (page?.columns ?? []).map((c, j) => ({
    id: `${j}:${c.name}`,
    header: c.name,
    title: `${c.type} (sorts this page)`,
    numeric: typeof page?.rows[0]?.[j] === 'number',
    sortValue: (r) => {
      const v = r[j];
      return v === null || v === undefined ? null : typeof v === 'number' ? v : cellText(v);
    },
    cell: (r) => cellText(r[j] ?? null),
  }));

  return (
    <Grid gap="md" className="workspace">
      <Grid.Col span={{ base: 12, md: 3 }}>
        <Paper withBorder p="sm" component="aside" aria-label="Saved queries and tables">
          <Title order={2} fz="sm" mb={4}>
            Saved queries
          </Title>
          <ul className="plain-list">
            {savedList.data?.map((q) => (
              <li key={q.name}>
                <Button
                  variant={saved?.name === q.name ? 'light' : 'subtle'}
                  size="compact-sm"
                  title={q.description}
                  onClick={() => pick(q)}
                  aria-pressed={saved?.name === q.name}
                >
                  {q.name}
                </Button>
              </li>
            ))}
          </ul>
          <Title order={2} fz="sm" mt="sm" mb={4}>
            Tables
          </Title>
          {catalog.data?.map((t) => (
            <details key={t.name}>
              <summary>{t.name}</summary>
              <ul className="plain-list columns">
                {t.columns.map((c) => (
                  <li key={c.name}>
                    <code>{c.name}</code>{' '}
                    <Text span size="xs" c="dimmed">
                      {c.type}
                      {c.partition ? ', partition' : ''}
                    </Text>
                  </li>
                ))}
              </ul>
            </details>
          ))}
        </Paper>
      </Grid.Col>
      <Grid.Col span={{ base: 12, md: 9 }}>
        <Stack gap="sm" component="section" aria-label="Query">
          {saved && sql === saved.sql ? (
            <Paper withBorder p="sm" component="fieldset" aria-label="Parameters" m={0}>
              <Text size="sm" mb="xs">
                <strong>{saved.name}</strong>: {saved.description}
              </Text>
              <Group gap="sm" align="flex-end">
                {saved.params.map((p) => (
                  <ParamInput
                    key={p.name}
                    def={p}
                    value={params[p.name] ?? ''}
                    onChange={(v) => setParams({ ...params, [p.name]: v })}
                  />
                ))}
              </Group>
            </Paper>
          ) : null}
          <SqlEditor value={sql} onChange={setSql} onRun={run} tables={catalog.data ?? []} />
          <Group gap="sm">
            <Button onClick={run} disabled={running || start.isPending}>
              Run&nbsp;
              <Text span size="xs">
                (Ctrl+Enter)
              </Text>
            </Button>
            <Button variant="default" onClick={() => cancel.mutate()} disabled={!running}>
              Cancel
            </Button>
            {canLiftGuard ? (
              <Checkbox
                label="allow a full scan"
                checked={allowFullScan}
                onChange={(e) => setAllowFullScan(e.currentTarget.checked)}
              />
            ) : (
              <Text size="sm" c="dimmed">
                Viewer: only an operator can run a query past the scan guard.
              </Text>
            )}
            {info?.state === 'SUCCEEDED' ? (
              <Anchor href={`/api/queries/${encodeURIComponent(info.id)}/csv`} download size="sm">
                Download CSV
              </Anchor>
            ) : null}
          </Group>
          {start.error ? <Problem testId="query-error">{start.error.message}</Problem> : null}
          {status.error ? <Problem>{status.error.message}</Problem> : null}
          {info ? (
            <Text size="sm" role="status" data-testid="query-status" className="tabular">
              <strong>{info.state}</strong> · {(elapsed / 1000).toFixed(2)} s · {formatBytes(info.bytesScanned)} scanned
              · ${info.costUsd.toFixed(6)} at Athena&apos;s price · {info.rows.toLocaleString('en-US')} rows
              {info.truncated ? ' (cut at the row limit)' : ''}
              {info.error ? (
                <Text span className="tone-bad">
                  {' '}
                  · {info.error}
                </Text>
              ) : null}
            </Text>
          ) : null}
          {info?.notice ? (
            <Alert color="yellow" variant="light" data-testid="query-notice" p="xs">
              {info.notice}
            </Alert>
          ) : null}
          {page ? (
            <>
              <DataTable
                label="Query results"
                testId="results"
                columns={resultColumns}
                rows={page.rows}
                rowKey={(r) => String(page.rows.indexOf(r))}
                empty="The query returned no rows."
                maxHeight="28rem"
              />
              <Group gap="sm">
                <Button
                  variant="default"
                  size="compact-sm"
                  disabled={!tokens.length}
                  onClick={() => setTokens(tokens.slice(0, -1))}
                >
                  Previous
                </Button>
                <Text size="sm" c="dimmed">
                  rows {tokens.length * PAGE + 1}–{tokens.length * PAGE + page.rows.length}
                </Text>
                <Button
                  variant="default"
                  size="compact-sm"
                  disabled={!page.nextToken}
                  onClick={() => page.nextToken && setTokens([...tokens, page.nextToken])}
                >
                  Next
                </Button>
              </Group>
              <ResultChart key={id} columns={page.columns} rows={page.rows} />
            </>
          ) : null}
          <Title order={2} mt="md">
            History
          </Title>
          <DataTable
            label="Query history"
            testId="history"
            className="history"
            columns={HISTORY_COLUMNS(load)}
            rows={history.data}
            rowKey={(h) => h.id}
            rowProps={(h) => ({ 'aria-selected': h.id === id })}
            loading={history.isPending}
            error={history.error}
            empty="No queries yet: run one above."
            maxHeight="20rem"
          />
        </Stack>
      </Grid.Col>
    </Grid>
  );
}
