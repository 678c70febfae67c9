import type { ReactNode } from 'react';
import { CodeBlock } from '@/components/ui/CodeBlock.tsx';
import { encodePointer } from '@/lib/registry/pointer.ts';

export interface PathError {
  path: string;
  message: string;
}

function pointerOf(parent: string, key: string | number): string {
  return `${parent}${encodePointer([key])}`;
}

/** Every JSON pointer a value has (to tell errors at a path in the payload from ones about something missing). */
function pointers(value: unknown, at = '', out = new Set<string>()): Set<string> {
  out.add(at);
  if (Array.isArray(value))
    value.forEach((v, i) => {
      pointers(v, pointerOf(at, i), out);
    });
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) pointers(v, pointerOf(at, k), out);
  return out;
}

function Scalar({ value }: { value: unknown }) {
  const cls =
    value === null ? 'j-null' : typeof value === 'string' ? 'j-str' : typeof value === 'number' ? 'j-num' : 'j-bool';
  return <span className={cls}>{JSON.stringify(value)}</span>;
}

function Node({
  value,
  pointer,
  name,
  comma,
  marks,
}: {
  value: unknown;
  pointer: string;
  name?: string;
  comma: boolean;
  marks: Map<string, string[]>;
}): ReactNode {
  const msgs = marks.get(pointer);
  const label = name !== undefined ? <span className="j-key">{JSON.stringify(name)}: </span> : null;
  const note = msgs ? (
    <span className="j-err" role="note">
      {' '}
      ← {msgs.join('; ')}
    </span>
  ) : null;
  const cls = msgs ? 'j-line j-mark' : 'j-line';
  const isArray = Array.isArray(value);
  if (value && typeof value === 'object') {
    const entries: [string | number, unknown][] = isArray
      ? (value as unknown[]).map((v, i) => [i, v])
      : Object.entries(value);
    return (
      <div data-pointer={pointer}>
        <div className={cls}>
          {label}
          {isArray ? '[' : '{'}
          {note}
        </div>
        <div className="j-children">
          {entries.map(([k, v], i) => (
            <Node
              key={String(k)}
              value={v}
              pointer={pointerOf(pointer, k)}
              {...(isArray ? {} : { name: String(k) })}
              comma={i < entries.length - 1}
              marks={marks}
            />
          ))}
        </div>
        <div className="j-line">
          {isArray ? ']' : '}'}
          {comma ? ',' : ''}
        </div>
      </div>
    );
  }
  return (
    <div className={cls} data-pointer={pointer}>
      {label}
      <Scalar value={value} />
      {comma ? ',' : ''}
      {note}
    </div>
  );
}

/**
 * A JSON payload, pretty-printed as text (never as HTML), with each validation error highlighted at its JSON path;
 * errors about something absent (a missing required field) are listed above it.
 */
export function JsonView({ text, errors }: { text: string; errors: PathError[] }) {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return (
      <>
        <p className="dimmed-note">Not valid JSON; shown as received.</p>
        <CodeBlock label="Payload as received">{text}</CodeBlock>
      </>
    );
  }
  const present = pointers(value);
  const marks = new Map<string, string[]>();
  const elsewhere: PathError[] = [];
  for (const e of errors) {
    const p = e.path === '/' ? '' : e.path;
    if (present.has(p) && p !== '') marks.set(p, [...(marks.get(p) ?? []), e.message]);
    else elsewhere.push(e);
  }
  return (
    <>
      {elsewhere.length ? (
        <ul className="plain-list">
          {elsewhere.map((e, i) => (
            <li key={i} className="j-err">
              <code>{e.path}</code>: {e.message}
            </li>
          ))}
        </ul>
      ) : null}
      <CodeBlock as="div" label="Payload as received, errors marked" testId="payload-view">
        <Node value={value} pointer="" comma={false} marks={marks} />
      </CodeBlock>
    </>
  );
}
