'use client';
import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ActionIcon, Button, Group, Menu, Popover, Stack, Text, TextInput } from '@mantine/core';
import type { SavedView, ViewPage } from '@/lib/console/saved-views.ts';
import { api } from '@/components/api.ts';

/**
 * The saved views of a page, shared by everyone signed in: pick one to apply its filter, save the filter shown under
 * a name, delete one (its author or an operator; the route decides).
 */
export function SavedViews({
  page,
  query,
  onApply,
}: {
  page: ViewPage;
  /** The filter shown now, as the page's query string. */
  query: string;
  onApply: (query: string) => void;
}) {
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [saving, setSaving] = useState(false);
  const views = useQuery({
    queryKey: ['views', page],
    queryFn: () => api<{ views: SavedView[] }>(`/api/views?page=${page}`),
  });
  const refresh = () => void qc.invalidateQueries({ queryKey: ['views', page] });
  const save = useMutation({
    mutationFn: () => api<SavedView>('/api/views', { method: 'POST', body: JSON.stringify({ page, name, query }) }),
    onSuccess: () => {
      setName('');
      setSaving(false);
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => api<unknown>(`/api/views/${id}?page=${page}`, { method: 'DELETE' }),
    onSettled: refresh,
  });
  const list = views.data?.views ?? [];
  return (
    <Group gap="xs" data-testid="saved-views">
      <Menu position="bottom-start" withinPortal>
        <Menu.Target>
          <Button variant="default" size="compact-sm" disabled={!list.length}>
            Saved views ({list.length})
          </Button>
        </Menu.Target>
        <Menu.Dropdown>
          {list.map((v) => (
            <Group key={v.id} gap={0} wrap="nowrap">
              <Menu.Item onClick={() => onApply(v.query)} title={v.query || 'no filter'}>
                {v.name}{' '}
                <Text span size="xs" c="dimmed">
                  by {v.by}
                </Text>
              </Menu.Item>
              <ActionIcon
                variant="subtle"
                color="red"
                size="sm"
                aria-label={`Delete the view ${v.name}`}
                onClick={() => remove.mutate(v.id)}
              >
                ×
              </ActionIcon>
            </Group>
          ))}
        </Menu.Dropdown>
      </Menu>
      <Popover opened={saving} onChange={setSaving} position="bottom-start" withinPortal trapFocus>
        <Popover.Target>
          <Button variant="subtle" size="compact-sm" onClick={() => setSaving((o) => !o)}>
            Save this view
          </Button>
        </Popover.Target>
        <Popover.Dropdown>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              save.mutate();
            }}
          >
            <Stack gap="xs" w={260}>
              <TextInput
                size="xs"
                label="View name"
                value={name}
                maxLength={80}
                onChange={(e) => setName(e.currentTarget.value)}
                description={query ? `filter: ${query}` : 'no filter: the whole list'}
              />
              <Button type="submit" size="compact-sm" disabled={!name.trim() || save.isPending}>
                Save
              </Button>
              {save.error ? (
                <Text size="xs" className="tone-bad" role="alert">
                  {save.error.message}
                </Text>
              ) : null}
            </Stack>
          </form>
        </Popover.Dropdown>
      </Popover>
      {remove.error ? (
        <Text size="xs" className="tone-bad" role="alert">
          {remove.error.message}
        </Text>
      ) : null}
    </Group>
  );
}
