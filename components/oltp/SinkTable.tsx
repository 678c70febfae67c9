import type { SinkProgress } from '@/lib/oltp/status.ts';
import { ago, count, duration } from './format.ts';

/** The sink's progress per consumer and shard: what it applied, skipped as already there and quarantined, and how fresh. */
export function SinkTable({ sink }: { sink: SinkProgress[] }) {
  if (!sink.length) {
    return (
      <p className="empty" data-testid="oltp-sink-empty">
        The sink has not applied a batch yet — produce some transactions with <code>npx tributary produce</code>
      </p>
    );
  }
  const total = (k: 'applied' | 'duplicates' | 'rejected' | 'batches') => count(sink.reduce((a, s) => a + s[k], 0));
  return (
    <table data-testid="oltp-sink">
      <thead>
        <tr>
          <th>consumer</th>
          <th>shard</th>
          <th className="num">applied</th>
          <th className="num" title="events already in the database (re-deliveries, re-drives of applied events)">
            duplicates
          </th>
          <th className="num" title="events the database refused, quarantined with stage oltp-sink">
            quarantined
          </th>
          <th className="num">batches</th>
          <th title="time since the last batch was applied; grows while the sink is stopped or the database is down">
            last batch
          </th>
          <th title="how long the newest applied record waited between reaching the stream and being applied">lag</th>
        </tr>
      </thead>
      <tbody>
        {sink.map((s) => (
          <tr key={`${s.consumer}/${s.shardId}`} title={`checkpoint ${s.sequenceNumber}`}>
            <td>{s.consumer}</td>
            <td>
              <code>{s.shardId}</code>
            </td>
            <td className="num">{count(s.applied)}</td>
            <td className="num">{count(s.duplicates)}</td>
            <td className={`num${s.rejected ? ' error' : ''}`}>{count(s.rejected)}</td>
            <td className="num">{count(s.batches)}</td>
            <td>{ago(s.idleMs)}</td>
            <td>{duration(s.latencyMs)}</td>
          </tr>
        ))}
      </tbody>
      {sink.length > 1 ? (
        <tfoot>
          <tr>
            <th colSpan={2}>all shards</th>
            <td className="num">{total('applied')}</td>
            <td className="num">{total('duplicates')}</td>
            <td className="num">{total('rejected')}</td>
            <td className="num">{total('batches')}</td>
            <td colSpan={2} />
          </tr>
        </tfoot>
      ) : null}
    </table>
  );
}
