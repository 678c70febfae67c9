'use client';
import { useMemo, useState } from 'react';
import { Group, NativeSelect, Paper, Text } from '@mantine/core';
import { Bar, BarChart, CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Cell, ResultColumn } from '../api.ts';

const NUMERIC = /int|double|float|decimal|real|bigint/;

const LABEL_NAME = /^(id|.*_id|v|version|year|month|day|hour|minute|dt|rank|row_number|rn)$/i;

/**
 * The numeric column to chart first: one that measures something. A column named like a label (`rank`, `v`, `*_id`,
 * `hour`), numbered 1, 2, 3… down the rows, or holding one value in every row is passed over while another remains.
 */
export function defaultMeasure(columns: ResultColumn[], rows: Cell[][], x: number): number {
  const candidates = columns.map((c, i) => ({ c, i })).filter(({ c, i }) => i !== x && NUMERIC.test(c.type));
  const label = ({ c, i }: { c: ResultColumn; i: number }) => {
    if (LABEL_NAME.test(c.name)) return true;
    const values = rows.map((r) => Number(r[i]));
    if (rows.length > 1 && new Set(values).size === 1) return true;
    return rows.length > 2 && values.every((v, n) => v === values[0]! + n);
  };
  return (candidates.find((c) => !label(c)) ?? candidates[0] ?? { i: -1 }).i;
}

/** A line or bar chart of one numeric column against another column of a result. */
export function ResultChart({ columns, rows }: { columns: ResultColumn[]; rows: Cell[][] }) {
  const numeric = columns.map((c, i) => ({ c, i })).filter(({ c }) => NUMERIC.test(c.type));
  const [kind, setKind] = useState<'bar' | 'line'>('bar');
  // Defaults: the first text column along X (else the first column), and up Y the first other numeric column that is a
  // measure (not a rank, a version, an id or a constant), else the first other numeric one.
  const firstText = columns.findIndex((c) => !NUMERIC.test(c.type));
  const [x, setX] = useState(Math.max(firstText, 0));
  const [y, setY] = useState(() => defaultMeasure(columns, rows, x));
  const data = useMemo(
    () => rows.map((r) => ({ x: String(r[x] ?? ''), y: typeof r[y] === 'number' ? r[y] : Number(r[y]) })),
    [rows, x, y],
  );
  if (!numeric.length || !rows.length)
    return (
      <Text size="sm" c="dimmed">
        No numeric column to chart.
      </Text>
    );
  const Chart = kind === 'bar' ? BarChart : LineChart;
  return (
    <Paper withBorder p="sm" component="figure" m={0} className="chart chart-panel" aria-label="Result chart">
      <Group gap="sm" mb="xs">
        <NativeSelect
          size="xs"
          label="Chart"
          value={kind}
          onChange={(e) => setKind(e.currentTarget.value as 'bar' | 'line')}
          data={['bar', 'line']}
        />
        <NativeSelect
          size="xs"
          label="X"
          value={String(x)}
          onChange={(e) => setX(Number(e.currentTarget.value))}
          data={columns.map((c, i) => ({ value: String(i), label: c.name }))}
        />
        <NativeSelect
          size="xs"
          label="Y"
          value={String(y)}
          onChange={(e) => setY(Number(e.currentTarget.value))}
          data={numeric.map(({ c, i }) => ({ value: String(i), label: c.name }))}
        />
      </Group>
      <ResponsiveContainer width="100%" height={260}>
        <Chart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 16 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="x" />
          <YAxis />
          <Tooltip />
          {kind === 'bar' ? (
            <Bar
              dataKey="y"
              name={columns[y]?.name}
              fill="var(--mantine-primary-color-filled)"
              isAnimationActive={false}
            />
          ) : (
            <Line
              dataKey="y"
              name={columns[y]?.name}
              stroke="var(--mantine-primary-color-filled)"
              isAnimationActive={false}
              dot={false}
            />
          )}
        </Chart>
      </ResponsiveContainer>
    </Paper>
  );
}
