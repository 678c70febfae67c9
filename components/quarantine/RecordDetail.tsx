'use client';
import { useEffect, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Group, NativeSelect, Text, TextInput, Title } from '@mantine/core';
import { Loading, Problem } from '@/components/ui/States.tsx';
import { api } from '../api.ts';
import { JsonEditor } from './JsonEditor.tsx';
import { JsonView } from './JsonView.tsx';
import type { DetailResponse, FixCheck, JobState } from './types.ts';

/** Pretty text for the editor, unless re-printing could change a number (integers beyond 2^53). */
function editable(event: string): string {
  if (/[:[,]\s*-?[0-9]{16,}/.test(event)) return event;
  try {
    return JSON.stringify(JSON.parse(event), null, 2);
  } catch {
    return event;
  }
}

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

interface Props {
  qid: string;
  canOperate: boolean;
  types: string[];
  onJob: (job: JobState) => void;
  onClose: () => void;
}

/** One quarantined record: metadata, errors highlighted in the payload, a fix editor that re-validates as you type. */
export function RecordDetail({ qid, canOperate, types, onJob, onClose }: Props) {
  const qc = useQueryClient();
  const detail = useQuery({
    queryKey: ['q-detail', qid],
    queryFn: () => api<DetailResponse>(`/api/quarantine/${encodeURIComponent(qid)}`),
  });
  const [text, setText] = useState<string | null>(null);
  const [type, setType] = useState('');
  const [discardReason, setDiscardReason] = useState('');
  const source = detail.data?.source;
  const original = source ? editable(source.event) : '';
  const edited = text !== null && text !== original;
  const retyped = !!type && type !== (source?.type ?? '');
  const fix = useDebounced({ event: text ?? original, type }, 250);
  const check = useQuery({
    queryKey: ['q-check', qid, fix],
    queryFn: () =>
      api<FixCheck>(`/api/quarantine/${encodeURIComponent(qid)}/check`, {
        method: 'POST',
        body: JSON.stringify({ event: fix.event, ...(fix.type ? { type: fix.type } : {}) }),
      }),
    enabled: !!source,
  });
  const redrive = useMutation({
    mutationFn: () =>
      api<JobState>('/api/quarantine/redrive', {
        method: 'POST',
        body: JSON.stringify({
          qids: [qid],
          ...(edited || retyped ? { fixes: { [qid]: { event: text ?? original, ...(type ? { type } : {}) } } } : {}),
        }),
      }),
    onSuccess: (job) => {
      onJob(job);
      void qc.invalidateQueries({ queryKey: ['q-list'] });
      // The record is no longer open once its job has it: read its status again rather than offer a second re-drive.
      void qc.invalidateQueries({ queryKey: ['q-detail', qid] });
    },
  });
  const discard = useMutation({
    mutationFn: () =>
      api<{ discarded: number }>('/api/quarantine/discard', {
        method: 'POST',
        body: JSON.stringify({ qids: [qid], reason: discardReason }),
      }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['q-list'] });
      void qc.invalidateQueries({ queryKey: ['q-detail', qid] });
    },
  });

  if (detail.isLoading) return <Loading>Loading record…</Loading>;
  if (detail.error)
    return (
      <>
        <Problem>{detail.error.message}</Problem>
        <Button variant="default" size="compact-sm" onClick={onClose}>
          Close
        </Button>
      </>
    );
  const { entry, latestVersion } = detail.data!;
  const r = entry.record;
  const open = entry.status === 'open';
  return (
    <section aria-labelledby="detail-title" data-testid="record-detail">
      <Group justify="space-between" wrap="nowrap" mb="xs">
        <Title order={2} id="detail-title" fz="md">
          Record <code>{r.id}</code>
        </Title>
        <Button variant="default" size="compact-sm" onClick={onClose}>
          Close
        </Button>
      </Group>
      <dl className="meta-list">
        <dt>status</dt>
        <dd data-testid="detail-status">
          {entry.status}
          {entry.last ? ` (${entry.last.outcome} by ${entry.last.by}, job ${entry.last.job})` : ''}
        </dd>
        <dt>stage · reason</dt>
        <dd>
          {r.stage} · {r.reason}
        </dd>
        <dt>type · schema</dt>
        <dd>
          {source?.type ?? '(none)'}
          {source?.v !== undefined ? ` · failed v${source.v}` : ''}
          {latestVersion !== undefined ? ` · re-drive validates against v${latestVersion}` : ''}
        </dd>
        <dt>received · quarantined</dt>
        <dd>
          {r.received_at} · {r.quarantined_at}
        </dd>
        <dt>attempts · source</dt>
        <dd>
          {r.attempts} · {r.source}
        </dd>
      </dl>
      <Title order={3} mt="sm" mb={4}>
        Errors
      </Title>
      <ul className="plain-list" data-testid="detail-errors">
        {r.errors.map((e, i) => (
          <li key={i}>
            <code>{e.path}</code>{' '}
            <Text span size="xs" c="dimmed">
              {e.keyword}
            </Text>{' '}
            {e.message}
          </li>
        ))}
      </ul>
      <Title order={3} mt="sm" mb={4}>
        Payload as received {r.payload_encoding === 'base64' ? '(not UTF-8; shown as base64)' : ''}
      </Title>
      <JsonView text={r.payload} errors={r.errors} />
      {open && canOperate ? (
        <>
          <Title order={3} mt="sm" mb={4}>
            Fix and re-drive
          </Title>
          <Group align="flex-end" gap="sm" mb="xs">
            <NativeSelect
              label="Type"
              size="xs"
              value={type || source?.type || ''}
              onChange={(e) => setType(e.currentTarget.value)}
              data={[...(!source?.type ? [{ value: '', label: 'choose…' }] : []), ...types]}
            />
            <Text size="xs" c="dimmed">
              Edits are checked against the schema as you type.
            </Text>
          </Group>
          <JsonEditor key={qid} value={text ?? original} onChange={setText} label="Fix the event" />
          <div className="check" aria-live="polite" data-testid="fix-check">
            {check.data ? (
              check.data.valid ? (
                <Text span size="sm" className="tone-ok">
                  ✓ valid against {check.data.type} v{check.data.v}
                </Text>
              ) : (
                <ul className="plain-list">
                  {check.data.errors.map((e, i) => (
                    <Text component="li" key={i} size="sm" className="tone-bad">
                      <code>{e.path}</code> {e.message}
                    </Text>
                  ))}
                </ul>
              )
            ) : (
              <Text span size="sm" c="dimmed">
                Checking…
              </Text>
            )}
          </div>
          <Group gap="sm" my="xs">
            <Button
              size="compact-sm"
              onClick={() => redrive.mutate()}
              disabled={
                redrive.isPending || redrive.isSuccess || !check.data?.valid || fix.event !== (text ?? original)
              }
              data-shortcut="redrive-record"
            >
              {edited || retyped ? 'Re-drive fixed record' : 'Re-drive record'}
            </Button>
          </Group>
          {redrive.error ? <Problem>{redrive.error.message}</Problem> : null}
          <Group align="flex-end" gap="sm" my="xs">
            <TextInput
              size="xs"
              label="Discard reason"
              value={discardReason}
              onChange={(e) => setDiscardReason(e.currentTarget.value)}
              placeholder="why this record is dropped"
            />
            <Button
              size="compact-sm"
              color="red"
              variant="outline"
              onClick={() => discard.mutate()}
              disabled={!discardReason.trim() || discard.isPending}
            >
              Discard
            </Button>
          </Group>
          {discard.error ? <Problem>{discard.error.message}</Problem> : null}
        </>
      ) : null}
    </section>
  );
}
