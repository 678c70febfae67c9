/** The console's pages, in the sidebar's order (Alt 1 … Alt 8 go to them). */
export const PAGES = [
  { href: '/', label: 'Overview', about: 'throughput per shard, lag, the pipeline at a glance' },
  { href: '/stream', label: 'Stream', about: 'shards and their records' },
  { href: '/sql', label: 'SQL', about: 'query the lake' },
  { href: '/oltp', label: 'OLTP', about: 'the operational database and its sink' },
  { href: '/imports', label: 'Imports', about: 'table exports and raw event files, their versions and approvals' },
  { href: '/quarantine', label: 'Quarantine', about: 'records that failed, fix and re-drive' },
  { href: '/schemas', label: 'Schemas', about: 'event types and their validation failures' },
  { href: '/audit', label: 'Audit', about: 'who re-drove, discarded or exported what' },
] as const;
