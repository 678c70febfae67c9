'use client';
import { type HTMLAttributes, type ReactNode, useMemo, useState } from 'react';
import { Table, UnstyledButton } from '@mantine/core';
import {
  type ColumnDef,
  flexRender,
  getCoreRowModel,
  getSortedRowModel,
  type SortingState,
  useReactTable,
} from '@tanstack/react-table';
import { Empty, Loading, Problem } from './States.tsx';

/** One column: its header, how a row shows in it, and (when it can be sorted) the value it sorts by. */
export interface Column<T> {
  id: string;
  header: ReactNode;
  cell: (row: T) => ReactNode;
  /** Sorting by this column compares these values; absent: the column does not sort. */
  sortValue?: (row: T) => string | number | null | undefined;
  /** Right-aligned tabular figures. */
  numeric?: boolean;
  /** Explains the column (the header's tooltip). */
  title?: string;
  /** A class for the column's cells (e.g. to let a long text wrap). */
  className?: string;
}

interface Props<T> {
  /** What the table lists, for screen readers (the scrolling region's name). */
  label: string;
  columns: Column<T>[];
  rows: T[] | undefined;
  rowKey: (row: T) => string;
  testId?: string;
  className?: string;
  /** Attributes of a row (data-* for tests and styling, aria-selected for the current one). */
  rowProps?: (row: T) => HTMLAttributes<HTMLTableRowElement> & Record<`data-${string}`, string | undefined>;
  /** While the first answer is on its way. */
  loading?: boolean;
  loadingText?: string;
  error?: Error | null;
  /** Shown instead of an empty table: what would put rows here. */
  empty?: ReactNode;
  emptyTestId?: string;
  footer?: ReactNode;
  /** The tallest the table grows before it scrolls inside its panel (CSS length); wide tables always scroll. */
  maxHeight?: string;
  initialSort?: SortingState;
}

const ARIA_SORT = { asc: 'ascending', desc: 'descending' } as const;

/**
 * The console's table: dense, sortable by a click on a header (client-side, over the rows it is given), with a sticky
 * header inside its own scrolling panel so a wide or long result never widens the page. Loading, error and empty
 * states are the kit's, with what to do next.
 */
export function DataTable<T>({
  label,
  columns,
  rows,
  rowKey,
  testId,
  className,
  rowProps,
  loading = false,
  loadingText = 'Loading…',
  error,
  empty,
  emptyTestId,
  footer,
  maxHeight = '32rem',
  initialSort = [],
}: Props<T>) {
  const [sorting, setSorting] = useState<SortingState>(initialSort);
  const defs = useMemo<ColumnDef<T>[]>(
    () =>
      columns.map((c) => ({
        id: c.id,
        header: () => c.header,
        cell: (ctx) => c.cell(ctx.row.original),
        enableSorting: !!c.sortValue,
        sortUndefined: 'last',
        ...(c.sortValue ? { accessorFn: (r: T) => c.sortValue!(r) ?? undefined } : { accessorFn: () => null }),
        meta: c,
      })),
    [columns],
  );
  const table = useReactTable({
    data: rows ?? [],
    columns: defs,
    state: { sorting },
    onSortingChange: setSorting,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
    getRowId: rowKey,
  });
  if (error && !rows) return <Problem>{error.message}</Problem>;
  if (loading && !rows) return <Loading>{loadingText}</Loading>;
  if (rows && !rows.length && empty) return <Empty testId={emptyTestId}>{empty}</Empty>;
  return (
    <>
      {error ? <Problem>{error.message}</Problem> : null}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling panel must be reachable by keyboard to scroll it (WCAG 2.1.1; axe scrollable-region-focusable). */}
      <section className="table-scroll" style={{ maxHeight }} tabIndex={0} aria-label={label}>
        <Table stickyHeader highlightOnHover striped data-testid={testId} className={className}>
          <Table.Thead>
            {table.getHeaderGroups().map((g) => (
              <Table.Tr key={g.id}>
                {g.headers.map((h) => {
                  const c = h.column.columnDef.meta as Column<T>;
                  const dir = h.column.getIsSorted();
                  return (
                    <Table.Th
                      key={h.id}
                      title={c.title}
                      className={c.numeric ? 'num' : undefined}
                      aria-sort={dir ? ARIA_SORT[dir] : undefined}
                    >
                      {h.column.getCanSort() ? (
                        <UnstyledButton
                          className="sort"
                          onClick={h.column.getToggleSortingHandler()}
                          title={c.title ?? 'Sort by this column'}
                        >
                          {flexRender(h.column.columnDef.header, h.getContext())}
                          <span aria-hidden="true" className="sort-mark">
                            {dir === 'asc' ? ' ▲' : dir === 'desc' ? ' ▼' : ' ↕'}
                          </span>
                        </UnstyledButton>
                      ) : (
                        flexRender(h.column.columnDef.header, h.getContext())
                      )}
                    </Table.Th>
                  );
                })}
              </Table.Tr>
            ))}
          </Table.Thead>
          <Table.Tbody>
            {table.getRowModel().rows.map((r) => (
              <Table.Tr key={r.id} {...rowProps?.(r.original)}>
                {r.getVisibleCells().map((cell) => {
                  const c = cell.column.columnDef.meta as Column<T>;
                  const cls = [c.numeric ? 'num' : '', c.className ?? ''].join(' ').trim();
                  return (
                    <Table.Td key={cell.id} className={cls || undefined}>
                      {flexRender(cell.column.columnDef.cell, cell.getContext())}
                    </Table.Td>
                  );
                })}
              </Table.Tr>
            ))}
          </Table.Tbody>
          {footer ? <Table.Tfoot>{footer}</Table.Tfoot> : null}
        </Table>
      </section>
    </>
  );
}
