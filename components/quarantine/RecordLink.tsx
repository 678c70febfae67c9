import { Anchor } from '@mantine/core';

/** A quarantined record's id, linked to its detail on the quarantine page (whatever its status). */
export function RecordLink({ qid }: { qid: string }) {
  return (
    <Anchor href={`/quarantine?status=all&record=${encodeURIComponent(qid)}`} ff="monospace" size="xs">
      {qid}
    </Anchor>
  );
}
