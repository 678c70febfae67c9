'use client';
import { useMemo, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { Cell, ResultColumn } from '../api.ts';

const NUMERIC = /int|double|float|decimal|real|bigint/;

/** A line or bar chart of one numeric column against another column of a result. */
export function ResultChart({ columns, rows }: { columns: ResultColumn[]; rows: Cell[][] }) {
  const numeric = columns.map((c, i) => ({ c, i })).filter(({ c }) => NUMERIC.test(c.type));
  const [kind, setKind] = useState<'bar' | 'line'>('bar');
  // Defaults: the first text column along X (else the first column), the first other numeric column up Y.
  const firstText = columns.findIndex((c) => !NUMERIC.test(c.type));
  const [x, setX] = useState(Math.max(firstText, 0));
  const [y, setY] = useState((numeric.find(({ i }) => i !== x) ?? numeric[0])?.i ?? -1);
  const data = useMemo(
    () => rows.map((r) => ({ x: String(r[x] ?? ''), y: typeof r[y] === 'number' ? r[y] : Number(r[y]) })),
    [rows, x, y],
  );
  if (!numeric.length || !rows.length) return <p className="muted">No numeric column to chart.</p>;
  const Chart = kind === 'bar' ? BarChart : LineChart;
  return (
    <figure className="chart" aria-label="Result chart">
      <div className="controls">
        <label>
          Chart{' '}
          <select value={kind} onChange={(e) => setKind(e.target.value as 'bar' | 'line')}>
            <option value="bar">bar</option>
            <option value="line">line</option>
          </select>
        </label>
        <label>
          X{' '}
          <select value={x} onChange={(e) => setX(Number(e.target.value))}>
            {columns.map((c, i) => (
              <option key={c.name} value={i}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Y{' '}
          <select value={y} onChange={(e) => setY(Number(e.target.value))}>
            {numeric.map(({ c, i }) => (
              <option key={c.name} value={i}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <Chart width={900} height={260} data={data} margin={{ top: 8, right: 16, bottom: 8, left: 16 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="x" />
        <YAxis />
        <Tooltip />
        {kind === 'bar' ? (
          <Bar dataKey="y" name={columns[y]?.name} fill="#4a7bd0" isAnimationActive={false} />
        ) : (
          <Line dataKey="y" name={columns[y]?.name} stroke="#4a7bd0" isAnimationActive={false} dot={false} />
        )}
      </Chart>
    </figure>
  );
}
