/**
 * The console's keyboard shortcuts, as the help (`?`) and the README list them. Each page binds its own with
 * Mantine's useHotkeys, which ignores keys typed into inputs and editors.
 */
export const SHORTCUTS: readonly { keys: string; what: string; where: string }[] = [
  {
    keys: 'Ctrl/⌘ K',
    what: 'the command palette: a page, table, saved query, shard, record or query id',
    where: 'everywhere',
  },
  { keys: '/', what: "put the cursor in the page's filter", where: 'everywhere' },
  { keys: '?', what: 'list these shortcuts', where: 'everywhere' },
  { keys: 'Alt 1 … Alt 8', what: 'go to the page of that place in the sidebar', where: 'everywhere' },
  { keys: 'Shift T', what: 'switch between the light and the dark scheme', where: 'everywhere' },
  { keys: 'J / K', what: 'open the next / previous record of the list', where: 'Quarantine' },
  { keys: 'Esc', what: 'close the open record', where: 'Quarantine' },
  { keys: 'Shift R', what: 're-drive the open record (fixed, when it validates)', where: 'Quarantine' },
  { keys: '[ / ]', what: 'newer / older page of records', where: 'Quarantine' },
  { keys: 'Ctrl/⌘ Enter', what: 'run the query', where: 'SQL' },
  { keys: 'Shift C', what: 'cancel the running query', where: 'SQL' },
  { keys: 'J / K', what: 'select the next / previous shard', where: 'Stream' },
];

/**
 * Presses the button a shortcut stands for (marked `data-shortcut="<name>"`), if the page shows it enabled: the
 * shortcut then does exactly what the click would, with the same checks.
 */
export function pressShortcut(name: string): boolean {
  const el = document.querySelector<HTMLButtonElement>(
    `[data-shortcut="${name}"]:not([disabled]):not([data-disabled])`,
  );
  el?.click();
  return !!el;
}

/** Focuses the page's filter (the field marked `data-filter-focus`, else its first search field). */
export function focusFilter(): void {
  const el =
    document.querySelector<HTMLElement>('[data-filter-focus]') ??
    document.querySelector<HTMLElement>('main input[type="search"], main input:not([type="hidden"])');
  el?.focus();
}
