'use client';
import { useState } from 'react';
import Link from 'next/link';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Anchor, Badge, Button, Group, Paper, Table, Text, Timeline, Title, Tooltip } from '@mantine/core';
import type { ImportEntry, ImportTableView } from '@/lib/imports/service.ts';
import { Problem } from '@/components/ui/States.tsx';
import { api, formatBytes } from '../api.ts';
import { count, duration, utcTime } from '../oltp/format.ts';
import { changesLink, currentLink, importDuration, STATUS_ABOUT, STATUS_COLOR } from './format.ts';

/** A held import's approve and reject (reject asks once more: it is final). */
function Decision({ entry }: { entry: ImportEntry }) {
  const client = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const decide = useMutation({
    mutationFn: (decision: 'approve' | 'reject') =>
      api<ImportEntry>(`/api/imports/${encodeURIComponent(entry.id)}`, {
        method: 'POST',
        body: JSON.stringify({ decision }),
      }),
    onSuccess: () => client.invalidateQueries({ queryKey: ['imports'] }),
  });
  return (
    <>
      <Group gap="xs" mt={4}>
        <Button
          size="compact-sm"
          color="teal.9"
          loading={decide.isPending && decide.variables === 'approve'}
          disabled={decide.isPending}
          onClick={() => decide.mutate('approve')}
        >
          Approve {entry.version}
        </Button>
        {confirming ? (
          <>
            <Button
              size="compact-sm"
              color="red.9"
              loading={decide.isPending && decide.variables === 'reject'}
              disabled={decide.isPending}
              onClick={() => decide.mutate('reject')}
            >
              Confirm reject
            </Button>
            <Button size="compact-sm" variant="default" onClick={() => setConfirming(false)}>
              Cancel
            </Button>
            <Text size="xs">Rejecting is final: nothing of {entry.version} is applied.</Text>
          </>
        ) : (
          <Button size="compact-sm" variant="default" onClick={() => setConfirming(true)}>
            Reject…
          </Button>
        )}
      </Group>
      {decide.error ? <Problem testId="import-decision-error">{decide.error.message}</Problem> : null}
    </>
  );
}

/** The first refused rows of an import, with their lines in the file. */
function BadRows({ entry }: { entry: ImportEntry }) {
  const rows = entry.badRows ?? [];
  if (!rows.length) return null;
  return (
    <Table.ScrollContainer minWidth={480} maxHeight={240} mt={4}>
      <Table
        striped
        withTableBorder
        fz="xs"
        data-testid="import-bad-rows"
        aria-label={`Refused rows of ${entry.version}`}
      >
        <Table.Thead>
          <Table.Tr>
            <Table.Th>line</Table.Th>
            <Table.Th>row</Table.Th>
            <Table.Th>problem</Table.Th>
            <Table.Th>text</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((b, i) => (
            <Table.Tr key={`${b.line ?? ''}:${b.row ?? ''}:${i}`}>
              <Table.Td className="tabular">{b.line ?? '—'}</Table.Td>
              <Table.Td className="tabular">{b.row ?? '—'}</Table.Td>
              <Table.Td>{b.problem}</Table.Td>
              <Table.Td>{b.text === undefined ? '—' : <code className="wrap">{b.text}</code>}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** One version of a table on its timeline: status, counts, timings, errors, and what can be done. */
function ImportItem({ entry, operator, now }: { entry: ImportEntry; operator: boolean; now: number }) {
  const total = entry.ops.insert + entry.ops.update + entry.ops.delete;
  const file = entry.key.split('/').pop() ?? entry.key;
  const took = importDuration(entry, now);
  return (
    <div data-testid="import-item" data-import={entry.id} data-version={entry.version} data-status={entry.status}>
      <Group gap="xs">
        <Text fw={600}>
          <code>{entry.version}</code>
        </Text>
        <Tooltip label={STATUS_ABOUT[entry.status] ?? entry.status}>
          <Badge color={STATUS_COLOR[entry.status] ?? 'gray.7'} autoContrast data-testid="import-status">
            {entry.status}
          </Badge>
        </Tooltip>
        {entry.status === 'published' ? (
          <Text size="xs" data-testid="import-applied" className={entry.applied ? 'tone-ok' : undefined}>
            {entry.applied ? 'applied to Postgres' : 'applying…'}
          </Text>
        ) : null}
      </Group>
      <Text size="sm" className="tabular" data-testid="import-counts">
        +{count(entry.ops.insert)} inserts · ~{count(entry.ops.update)} updates · −{count(entry.ops.delete)} deletes ·{' '}
        {count(entry.unchanged)} unchanged
        {entry.base !== undefined ? (entry.base ? ` · against ${entry.base}` : ' · first export') : ''}
        {entry.status === 'running' && total ? ` · ${count(entry.published)} of ${count(total)} on the stream` : ''}
      </Text>
      <Text size="xs" c="dimmed">
        {file} · {formatBytes(entry.size)} · dropped {utcTime(entry.registeredAt)} UTC
        {took !== null ? ` · took ${duration(took)}` : ''}
        {entry.fence !== undefined ? ` · fence ${entry.fence}` : ''}
        {entry.decidedBy ? ` · ${entry.status === 'rejected' ? 'rejected' : 'approved'} by ${entry.decidedBy}` : ''}
      </Text>
      {entry.error ? (
        <Text size="sm" className="tone-bad wrap" data-testid="import-error">
          {entry.error}
        </Text>
      ) : null}
      <BadRows entry={entry} />
      {entry.committedAt || entry.status === 'published' ? (
        <Anchor component={Link} href={changesLink(entry)} size="xs">
          Operations of {entry.version} in the SQL workspace
        </Anchor>
      ) : null}
      {entry.status === 'held' && operator ? <Decision entry={entry} /> : null}
      {entry.status === 'held' && !operator ? (
        <Text size="xs">Held for an operator: sign in with the operator password to approve or reject it.</Text>
      ) : null}
    </div>
  );
}

/** The lease line: who holds the table now, or that it is free. */
function LeaseLine({ lease }: { lease: ImportTableView['lease'] }) {
  if (!lease) return <>no job has run yet</>;
  return lease.live ? (
    <>
      held by <code>{lease.holder}</code> (fence {lease.fence}) until {utcTime(lease.expiresAt)} UTC
    </>
  ) : (
    <>
      free (last held by <code>{lease.holder}</code>, fence {lease.fence})
    </>
  );
}

/** One tenant/table: what it published, its rows and lease, and its versions as a timeline (newest first). */
export function TableCard({ table, operator, now }: { table: ImportTableView; operator: boolean; now: number }) {
  const name = `${table.tenant}/${table.table}`;
  const id = `import-table-${table.tenant}-${table.table}`;
  return (
    <Paper withBorder p="md" component="section" aria-labelledby={id} data-testid="import-table" data-table={name}>
      <Group justify="space-between" align="baseline">
        <Title order={2} id={id} fz="lg">
          {name}
        </Title>
        <Anchor component={Link} href={currentLink(table)} size="sm">
          Current rows in the SQL workspace
        </Anchor>
      </Group>
      <Text size="sm" data-testid="import-table-state">
        {table.published ? (
          <>
            published <code>{table.published.version}</code> at {utcTime(table.published.at)} UTC
          </>
        ) : (
          'nothing published yet'
        )}{' '}
        · <span data-testid="import-table-rows">{count(table.rows)}</span> rows in Postgres ·{' '}
        <span data-testid="import-lease">
          <LeaseLine lease={table.lease} />
        </span>
      </Text>
      <Text size="xs" c="dimmed" mb="sm">
        {table.definition
          ? `key ${table.definition.primaryKey.join(', ')} · ${table.definition.columns.length} columns · '${table.definition.format.delimiter}'-delimited${table.definition.format.header ? ', header row' : ', no header row'}${table.definition.format.compression === 'gzip' ? ', gzip' : ''} · tables/${table.table}.json`
          : `no definition: add tables/${table.table}.json to import it again`}
      </Text>
      <Timeline bulletSize={14} lineWidth={2} active={table.imports.length - 1}>
        {table.imports.map((entry) => (
          <Timeline.Item key={entry.id} color={STATUS_COLOR[entry.status] ?? 'gray.7'}>
            <ImportItem entry={entry} operator={operator} now={now} />
          </Timeline.Item>
        ))}
      </Timeline>
    </Paper>
  );
}
