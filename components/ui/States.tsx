'use client';
import type { ReactNode } from 'react';
import { Alert, Group, Loader, Paper, Text } from '@mantine/core';

/** Nothing to show yet, and what would put something here. */
export function Empty({ children, testId }: { children: ReactNode; testId?: string }) {
  return (
    <Paper withBorder p="md" className="empty-state" data-testid={testId}>
      <Text size="sm" c="dimmed">
        {children}
      </Text>
    </Paper>
  );
}

/** Something is on its way; announced to screen readers. */
export function Loading({ children }: { children: ReactNode }) {
  return (
    <Group gap="xs" role="status" aria-live="polite" my="xs">
      <Loader size="xs" />
      <Text size="sm" c="dimmed">
        {children}
      </Text>
    </Group>
  );
}

/** A failure, with what to do about it (the message the API gave). */
export function Problem({ children, title, testId }: { children: ReactNode; title?: string; testId?: string }) {
  return (
    <Alert color="red" variant="light" my="xs" title={title} data-testid={testId} className="problem">
      {children}
    </Alert>
  );
}
