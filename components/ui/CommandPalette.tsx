'use client';
import { useState } from 'react';
import { useRouter } from 'next/navigation';
import { useQuery } from '@tanstack/react-query';
import { Spotlight, type SpotlightActionData } from '@mantine/spotlight';
import type { ShardInfo } from '@/lib/stream/browse.ts';
import { api, type CatalogTable, type SavedQueryInfo } from '@/components/api.ts';
import { PAGES } from './pages.ts';

/** What a typed text can be besides a name: an id of a run or record (letters, digits, `-`, `_`). */
const ID = /^[A-Za-z0-9_-]{6,128}$/;

/**
 * Ctrl/⌘-K: jump to a page, a lake table (the SQL workspace with a query on it), a saved query, a shard, a record
 * (the quarantine searched for the id typed) or a query run (its id). The lists come from the same routes the pages
 * read, fetched when the palette opens.
 */
export function CommandPalette() {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [query, setQuery] = useState('');
  const catalog = useQuery({
    queryKey: ['catalog'],
    queryFn: () => api<CatalogTable[]>('/api/catalog'),
    enabled: open,
  });
  const saved = useQuery({
    queryKey: ['saved-queries'],
    queryFn: () => api<SavedQueryInfo[]>('/api/saved-queries'),
    enabled: open,
  });
  const shards = useQuery({
    queryKey: ['shards'],
    queryFn: () => api<{ stream: string; shards: ShardInfo[] }>('/api/stream/shards'),
    enabled: open,
  });
  const go = (href: string) => () => router.push(href);
  // A few dozen entries: built on each render, as cheap as comparing dependencies.
  const actions: SpotlightActionData[] = [
    ...PAGES.map((p) => ({
      id: `page:${p.href}`,
      label: p.label,
      description: p.about,
      group: 'Pages',
      onClick: go(p.href),
    })),
    ...(catalog.data ?? []).map((t) => ({
      id: `table:${t.name}`,
      label: t.name,
      description: `query the ${t.name} table`,
      group: 'Tables',
      onClick: go(`/sql?table=${encodeURIComponent(t.name)}`),
    })),
    ...(saved.data ?? []).map((q) => ({
      id: `saved:${q.name}`,
      label: q.name,
      description: q.description,
      group: 'Saved queries',
      onClick: go(`/sql?saved=${encodeURIComponent(q.name)}`),
    })),
    ...(shards.data?.shards ?? []).map((s) => ({
      id: `shard:${s.id}`,
      label: s.id,
      description: `${s.open ? 'open' : 'closed'} shard of ${shards.data!.stream}`,
      group: 'Shards',
      onClick: go(`/stream?shard=${encodeURIComponent(s.id)}`),
    })),
  ];

  const text = query.trim();
  const needle = text.toLowerCase();
  const matching = actions.filter((a) =>
    `${a.label} ${a.description ?? ''} ${a.group ?? ''}`.toLowerCase().includes(needle),
  );
  const byId: SpotlightActionData[] = ID.test(text)
    ? [
        {
          id: 'find:record',
          label: `Records matching “${text}”`,
          description: 'the quarantine, every status, searched for this id or text',
          group: 'Find',
          onClick: go(`/quarantine?status=all&q=${encodeURIComponent(text)}`),
        },
        {
          id: 'find:query',
          label: `Query run ${text}`,
          description: 'the SQL workspace with this run, its status and results',
          group: 'Find',
          onClick: go(`/sql?query=${encodeURIComponent(text)}`),
        },
      ]
    : [];
  const shown = [...matching, ...byId];
  const groups = [...new Set(shown.map((a) => a.group))];
  return (
    <Spotlight.Root
      query={query}
      onQueryChange={setQuery}
      shortcut={['mod + K']}
      onSpotlightOpen={() => setOpen(true)}
      onSpotlightClose={() => setOpen(false)}
      scrollable
      maxHeight={420}
    >
      <Spotlight.Search
        placeholder="A page, table, saved query, shard, record or query id…"
        aria-label="Command palette"
      />
      <Spotlight.ActionsList>
        {shown.length ? (
          groups.map((g) => (
            <Spotlight.ActionsGroup key={g} label={g}>
              {shown
                .filter((a) => a.group === g)
                .map(({ id, group: _group, ...a }) => (
                  <Spotlight.Action key={id} {...a} />
                ))}
            </Spotlight.ActionsGroup>
          ))
        ) : (
          <Spotlight.Empty>Nothing matches. Type a name, or an id of six characters or more.</Spotlight.Empty>
        )}
      </Spotlight.ActionsList>
    </Spotlight.Root>
  );
}
