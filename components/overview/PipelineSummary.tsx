import type { PipelineStatus } from '@/lib/pipeline-status.ts';

const n = (v: number) => v.toLocaleString('en-US');

/** Counts per stage: lake rows per type and quarantined records per stage and reason. */
export function PipelineSummary({ status }: { status: PipelineStatus }) {
  return (
    <section aria-labelledby="summary">
      <h2 id="summary">Pipeline</h2>
      <p>
        Stream <code>{status.stream.name}</code>: {status.stream.status}, {status.stream.shards.length} shards
      </p>
      <table>
        <thead>
          <tr>
            <th>Lake table</th>
            <th>Rows</th>
            <th>Objects</th>
            <th>Partitions</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(status.lake.byType).map(([type, t]) => (
            <tr key={type}>
              <td>{type}</td>
              <td className="num">{n(t.rows)}</td>
              <td className="num">{n(t.objects)}</td>
              <td className="num">{n(t.partitions)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Quarantine: {n(status.quarantine.records)} records</h3>
      <ul>
        {Object.entries(status.quarantine.byReason).map(([reason, count]) => (
          <li key={reason}>
            {reason}: {n(count)}
          </li>
        ))}
      </ul>
    </section>
  );
}
