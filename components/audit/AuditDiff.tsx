'use client';
import { Text } from '@mantine/core';
import { RecordLink } from '../quarantine/RecordLink.tsx';
import type { AuditEdit } from '@/lib/quarantine/audit.ts';

const show = (v: unknown) => (v === undefined ? '' : JSON.stringify(v));

/** What each fix of a re-drive changed: per record, per field, the value before and after (masked by the server). */
export function AuditDiff({ edits, more }: { edits: AuditEdit[]; more?: number }) {
  const fields = edits.reduce((n, e) => n + e.changes.length, 0);
  return (
    <details data-testid="audit-diff">
      <summary>
        diff: {fields} field{fields === 1 ? '' : 's'} in {edits.length} record{edits.length === 1 ? '' : 's'}
      </summary>
      {edits.map((e) => (
        <div key={e.qid} className="audit-edit">
          <RecordLink qid={e.qid} />
          <ul className="plain-list">
            {e.changes.map((c) => (
              <li key={`${c.op}${c.path}`}>
                <code>{c.path}</code>{' '}
                {c.op === 'add' ? (
                  <>
                    added <ins className="tone-ok">{show(c.to)}</ins>
                  </>
                ) : c.op === 'remove' ? (
                  <>
                    removed <del className="tone-bad">{show(c.from)}</del>
                  </>
                ) : (
                  <>
                    <del className="tone-bad">{show(c.from)}</del> → <ins className="tone-ok">{show(c.to)}</ins>
                  </>
                )}
              </li>
            ))}
            {e.more ? <li>and {e.more} more changes</li> : null}
          </ul>
        </div>
      ))}
      {more ? (
        <Text size="xs" c="dimmed">
          and {more} more records edited
        </Text>
      ) : null}
    </details>
  );
}
