'use client';
import { useQuery } from '@tanstack/react-query';
import type { SchemaListing } from '@/lib/registry/listing.ts';
import { Button, Grid, Group, NativeSelect, Paper, Table, Text, TextInput, Title } from '@mantine/core';
import { CodeBlock } from '@/components/ui/CodeBlock.tsx';
import { DataTable, type Column } from '@/components/ui/DataTable.tsx';
import { Loading, Problem } from '@/components/ui/States.tsx';
import { useUrlState } from '@/components/ui/url-state.ts';
import { api } from '../api.ts';

type SchemaType = SchemaListing;

interface Failure {
  type: string;
  v: number | null;
  path: string;
  keyword: string;
  failures: number;
  example: string;
}

function isoDay(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

const FAILURE_COLUMNS: Column<Failure>[] = [
  { id: 'v', header: 'version', sortValue: (f) => f.v, cell: (f) => (f.v === null ? '—' : `v${f.v}`) },
  { id: 'path', header: 'field', sortValue: (f) => f.path, cell: (f) => <code>{f.path}</code> },
  { id: 'keyword', header: 'rule', sortValue: (f) => f.keyword, cell: (f) => f.keyword },
  {
    id: 'failures',
    header: 'failures',
    numeric: true,
    sortValue: (f) => f.failures,
    cell: (f) => f.failures.toLocaleString('en-US'),
  },
  { id: 'example', header: 'example', className: 'wrap', cell: (f) => f.example },
];

/**
 * Event types, their versions and JSON Schemas, and how often each field fails validation. The type, version and
 * period live in the URL (?type=&v=&from=&to=).
 */
export function SchemaBrowser() {
  const url = useUrlState();
  const types = useQuery({ queryKey: ['schemas'], queryFn: () => api<SchemaType[]>('/api/schemas') });
  const from = url.get('from') || isoDay(-6);
  const to = url.get('to') || isoDay(0);
  const failures = useQuery({
    queryKey: ['failures', from, to],
    queryFn: () => api<{ rows: Failure[] }>(`/api/schemas/failures?period=${encodeURIComponent(`${from}..${to}`)}`),
  });
  const type = types.data?.find((t) => t.name === (url.get('type') || types.data[0]?.name));
  const version = Number(url.get('v')) || null;
  const shown = type?.versions.find((v) => v.v === (version ?? type.manifest.latest)) ?? type?.versions.at(-1);
  const rows = failures.data ? failures.data.rows.filter((f) => f.type === type?.name) : undefined;
  const m = type?.manifest;

  return (
    <>
      {types.error ? <Problem>{types.error.message}</Problem> : null}
      {types.isPending ? <Loading>Loading the event types…</Loading> : null}
      <Group gap="xs" mb="md" role="navigation" aria-label="Event types">
        {types.data?.map((t) => (
          <Button
            key={t.name}
            variant={t.name === type?.name ? 'filled' : 'default'}
            size="compact-sm"
            aria-pressed={t.name === type?.name}
            onClick={() => url.set({ type: t.name, v: undefined })}
          >
            {t.name}
          </Button>
        ))}
      </Group>
      {type && m ? (
        <Grid gap="md">
          <Grid.Col span={{ base: 12, lg: 6 }}>
            <Paper withBorder p="md" component="section" aria-labelledby="manifest">
              <Title order={2} id="manifest">
                {type.name}
              </Title>
              <Text size="sm" my="xs">
                {m.description}
              </Text>
              <Table withTableBorder={false} fz="sm" aria-label="Manifest">
                <Table.Tbody>
                  <Table.Tr>
                    <Table.Th>table</Table.Th>
                    <Table.Td>
                      <code>{m.table}</code>
                    </Table.Td>
                  </Table.Tr>
                  <Table.Tr>
                    <Table.Th>event id</Table.Th>
                    <Table.Td>
                      <code>{m.id?.pointer ?? 'generated (UUIDv7)'}</code>
                    </Table.Td>
                  </Table.Tr>
                  <Table.Tr>
                    <Table.Th>event time</Table.Th>
                    <Table.Td>
                      {m.eventTime ? (
                        <>
                          <code>{m.eventTime.pointer}</code> ({m.eventTime.format})
                        </>
                      ) : (
                        'received time'
                      )}
                    </Table.Td>
                  </Table.Tr>
                  <Table.Tr>
                    <Table.Th>partitions</Table.Th>
                    <Table.Td>dt, hour{m.partitions.map((p) => `, ${p.name} (${p.pointer})`).join('')}</Table.Td>
                  </Table.Tr>
                  <Table.Tr>
                    <Table.Th>partition key</Table.Th>
                    <Table.Td>
                      <code>{m.partitionKey?.pointer ?? 'id'}</code>
                    </Table.Td>
                  </Table.Tr>
                  <Table.Tr>
                    <Table.Th>versions</Table.Th>
                    <Table.Td>
                      {type.versions.map((v) => `v${v.v}`).join(', ')} (latest v{m.latest})
                    </Table.Td>
                  </Table.Tr>
                </Table.Tbody>
              </Table>
              <Title order={2} mt="md" mb="xs">
                Validation failures by field
              </Title>
              <Group gap="sm" mb="xs">
                <TextInput
                  size="xs"
                  label="Failures from"
                  value={from}
                  onChange={(e) => url.set({ from: e.currentTarget.value })}
                />
                <TextInput
                  size="xs"
                  label="Failures to"
                  value={to}
                  onChange={(e) => url.set({ to: e.currentTarget.value })}
                />
              </Group>
              {failures.isFetching ? <Loading>Counting…</Loading> : null}
              <DataTable
                label="Validation failures by field"
                testId="failures"
                columns={FAILURE_COLUMNS}
                rows={rows}
                rowKey={(f) => `${f.v}|${f.path}|${f.keyword}`}
                error={failures.error}
                empty={`No validation failures for ${type.name} in this period.`}
              />
            </Paper>
          </Grid.Col>
          <Grid.Col span={{ base: 12, lg: 6 }}>
            <Paper withBorder p="md" component="section" aria-labelledby="schema">
              <Group justify="space-between" mb="xs">
                <Title order={2} id="schema">
                  JSON Schema
                </Title>
                <NativeSelect
                  size="xs"
                  aria-label="Schema version"
                  value={String(shown?.v)}
                  onChange={(e) => url.set({ v: e.currentTarget.value })}
                  data={type.versions.map((v) => ({ value: String(v.v), label: `v${v.v}` }))}
                />
              </Group>
              <CodeBlock className="schema" label={`JSON Schema of ${type.name} v${shown?.v}`} testId="schema">
                {JSON.stringify(shown?.schema, null, 2)}
              </CodeBlock>
            </Paper>
          </Grid.Col>
        </Grid>
      ) : null}
    </>
  );
}
