import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pipelineInventory } from '../lib/composition.ts';
import type { PipelineStatus } from '../lib/pipeline-status.ts';
import { commandConfig, dataDirOf, fmt, type Io } from './common.ts';

export const statusHelp = `tributary status [--json]

Counts what the pipeline holds: stream shards and consumer checkpoints, lake objects/bytes/rows per type, quarantined
records per stage/reason/type, and batches sent to the on-failure destination.
`;

function checkpoints(dataDir: string): Record<string, Record<string, { sequenceNumber?: string; ended?: boolean }>> {
  const dir = path.join(dataDir, 'checkpoints');
  const out: Record<string, Record<string, { sequenceNumber?: string; ended?: boolean }>> = {};
  try {
    for (const f of readdirSync(dir)) {
      if (f.endsWith('.json'))
        out[f.slice(0, -5)] = (
          JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { shards: Record<string, { sequenceNumber?: string }> }
        ).shards;
    }
  } catch {
    /* no local consumers yet */
  }
  return out;
}

export async function statusCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean' }, 'data-dir': { type: 'string' } },
    strict: true,
  });
  const dataDir = dataDirOf(values['data-dir']);
  const config = commandConfig(values['data-dir']);
  let status: PipelineStatus;
  try {
    status = await pipelineInventory(config).status();
  } catch (err) {
    io.err(`error: cannot read the pipeline's storage (${(err as Error).message}). Is \`tributary dev\` running?`);
    return 1;
  }
  const consumers = config.mode === 'local' ? checkpoints(dataDir) : {};
  if (values.json) {
    io.out(JSON.stringify({ ...status, consumers }));
    return 0;
  }
  const s = status;
  const lines = [
    `Stream   ${s.stream.name}: ${s.stream.error ? `unreachable (${s.stream.error})` : `${s.stream.status}, ${s.stream.shards.length} shards (${s.stream.shards.filter((x) => x.open).length} open)`}`,
  ];
  for (const [name, shards] of Object.entries(consumers)) {
    lines.push(
      `Consumer ${name}: ${Object.entries(shards)
        .map(
          ([id, cp]) =>
            `${id} ${cp.ended ? 'ended' : cp.sequenceNumber ? `at …${cp.sequenceNumber.slice(-8)}` : 'not started'}`,
        )
        .join(', ')}`,
    );
  }
  lines.push(`Lake     ${fmt(s.lake.rows)} rows in ${fmt(s.lake.objects)} objects (${fmt(s.lake.bytes)} bytes)`);
  for (const [type, t] of Object.entries(s.lake.byType))
    lines.push(
      `  ${type.padEnd(14)} ${fmt(t.rows).padStart(10)} rows  ${fmt(t.objects).padStart(6)} objects  ${fmt(t.partitions).padStart(5)} partitions  ${fmt(t.bytes)} bytes`,
    );
  lines.push(`Quarantine ${fmt(s.quarantine.records)} records in ${fmt(s.quarantine.objects)} objects`);
  if (s.quarantine.records) {
    lines.push(
      `  by stage:  ${Object.entries(s.quarantine.byStage)
        .map(([k, v]) => `${k} ${fmt(v)}`)
        .join(', ')}`,
    );
    lines.push(
      `  by reason: ${Object.entries(s.quarantine.byReason)
        .map(([k, v]) => `${k} ${fmt(v)}`)
        .join(', ')}`,
    );
    lines.push(
      `  by type:   ${Object.entries(s.quarantine.byType)
        .map(([k, v]) => `${k} ${fmt(v)}`)
        .join(', ')}`,
    );
  }
  lines.push(`On-failure ${fmt(s.onFailure.objects)} discarded batches (${fmt(s.onFailure.records)} records)`);
  io.out(lines.join('\n'));
  return 0;
}
