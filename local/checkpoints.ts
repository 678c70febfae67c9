import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface ShardCheckpoint {
  /** Last sequence number fully processed; absent when nothing was processed yet. */
  sequenceNumber?: string;
  /** The shard is closed and every record in it was processed (children may start). */
  ended?: boolean;
  updatedAt: string;
}

/**
 * Checkpoints of one event-source mapping, kept in a JSON file and replaced atomically (write + rename) so a crash
 * leaves either the old or the new state, never a torn file.
 */
export class CheckpointStore {
  readonly file: string;
  #state: Record<string, ShardCheckpoint>;

  constructor(dir: string, mapping: string) {
    mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, `${mapping}.json`);
    try {
      this.#state = (JSON.parse(readFileSync(this.file, 'utf8')) as { shards: Record<string, ShardCheckpoint> }).shards;
    } catch {
      this.#state = {};
    }
  }

  get(shardId: string): ShardCheckpoint | undefined {
    return this.#state[shardId];
  }

  all(): Record<string, ShardCheckpoint> {
    return { ...this.#state };
  }

  set(shardId: string, patch: Partial<ShardCheckpoint>): void {
    this.#state[shardId] = { ...this.#state[shardId], ...patch, updatedAt: new Date().toISOString() };
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ shards: this.#state }, null, 2));
    renameSync(tmp, this.file);
  }
}
