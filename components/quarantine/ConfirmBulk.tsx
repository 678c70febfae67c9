'use client';
import { useQuery } from '@tanstack/react-query';
import { Button, Group, List, Modal, Text } from '@mantine/core';
import { Loading, Problem } from '@/components/ui/States.tsx';
import { api } from '../api.ts';

export interface BulkAction {
  kind: 'redrive' | 'discard';
  /** The selection as the routes take it: `{qids}` or `{filter}`. */
  body: Record<string, unknown>;
  reason?: string;
}

interface Preview {
  records: number;
  valid: number;
  invalid: number;
  reasons: Record<string, number>;
}

/**
 * Asks before a bulk re-drive or discard, with what it would do now: how many records, and how many would fail
 * validation again (a re-drive quarantines those again; a discard drops them as they are).
 */
export function ConfirmBulk({
  action,
  onConfirm,
  onClose,
}: {
  action: BulkAction | null;
  onConfirm: (a: BulkAction) => void;
  onClose: () => void;
}) {
  const preview = useQuery({
    queryKey: ['q-preview', action],
    queryFn: () =>
      api<Preview>('/api/quarantine/redrive/preview', { method: 'POST', body: JSON.stringify(action!.body) }),
    enabled: !!action,
    staleTime: 0,
  });
  const p = preview.data;
  const verb = action?.kind === 'discard' ? 'Discard' : 'Re-drive';
  return (
    <Modal opened={!!action} onClose={onClose} title={`${verb} records?`} size="lg">
      {preview.isPending ? <Loading>Checking what it would do…</Loading> : null}
      {preview.error ? <Problem>{preview.error.message}</Problem> : null}
      {p && action ? (
        <>
          <Text size="sm" data-testid="confirm-summary">
            {action.kind === 'redrive'
              ? `${p.records.toLocaleString()} records: ${p.valid.toLocaleString()} would go back on the stream, ${p.invalid.toLocaleString()} would fail validation again and be quarantined again.`
              : `${p.records.toLocaleString()} records would leave the open backlog as discarded (reason: ${action.reason}); they stay stored. ${p.invalid.toLocaleString()} of them would still fail validation.`}
          </Text>
          {p.invalid ? (
            <List size="xs" mt="xs" c="dimmed">
              {Object.entries(p.reasons)
                .sort((a, b) => b[1] - a[1])
                .slice(0, 5)
                .map(([why, n]) => (
                  <List.Item key={why}>
                    {n.toLocaleString()} × <code>{why}</code>
                  </List.Item>
                ))}
            </List>
          ) : null}
          <Group justify="flex-end" mt="md">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button
              color={action.kind === 'discard' ? 'red' : undefined}
              disabled={!p.records}
              onClick={() => onConfirm(action)}
            >
              {verb} {p.records.toLocaleString()} records
            </Button>
          </Group>
        </>
      ) : null}
    </Modal>
  );
}
