import type { ReactNode } from 'react';
import { Paper, SimpleGrid, Text } from '@mantine/core';

/** A row of indicator tiles (a description list: each tile is a term and its value). */
export function KpiGrid({ label, children }: { label: string; children: ReactNode }) {
  return (
    <SimpleGrid component="dl" cols={{ base: 1, xs: 2, md: 3, xl: 6 }} spacing="sm" my="sm" aria-label={label}>
      {children}
    </SimpleGrid>
  );
}

/** One indicator: a label, a big value and a note; `alert` marks a value that needs attention. */
export function Kpi({
  testId,
  label,
  value,
  note,
  alert = false,
}: {
  testId: string;
  label: string;
  value: ReactNode;
  note: ReactNode;
  alert?: boolean;
}) {
  return (
    <Paper withBorder p="sm" data-testid={testId} className={alert ? 'kpi kpi-alert' : 'kpi'}>
      <Text component="dt" size="sm" fw={500}>
        {label}
      </Text>
      <Text component="dd" m={0} fz={24} fw={600} className={alert ? 'kpi-value tone-bad' : 'kpi-value'}>
        {value}
      </Text>
      <Text component="dd" m={0} size="xs" c="dimmed">
        {note}
      </Text>
    </Paper>
  );
}
