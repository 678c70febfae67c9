'use client';
import { useEffect, useRef } from 'react';
import { sql, StandardSQL } from '@codemirror/lang-sql';
import { Prec } from '@codemirror/state';
import { EditorView, keymap } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import { editorTheme } from '@/components/ui/editor-theme.ts';
import type { CatalogTable } from '../api.ts';

interface Props {
  value: string;
  onChange: (sql: string) => void;
  onRun: () => void;
  tables: CatalogTable[];
}

/** CodeMirror with SQL highlighting and completion of the catalog's tables and columns; Ctrl/Cmd+Enter runs. */
export function SqlEditor({ value, onChange, onRun, tables }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const callbacks = useRef({ onChange, onRun });
  callbacks.current = { onChange, onRun };
  const schemaKey = tables.map((t) => t.name).join(',');

  // biome-ignore lint/correctness/useExhaustiveDependencies: rebuilt only when the tables change (schemaKey); the text and callbacks reach the editor without a rebuild.
  useEffect(() => {
    const schema = Object.fromEntries(tables.map((t) => [t.name, t.columns.map((c) => c.name)]));
    const v = new EditorView({
      parent: host.current!,
      doc: value,
      extensions: [
        basicSetup,
        editorTheme,
        sql({ dialect: StandardSQL, schema, upperCaseKeywords: true }),
        Prec.highest(
          keymap.of([
            {
              key: 'Mod-Enter',
              run: () => {
                callbacks.current.onRun();
                return true;
              },
            },
          ]),
        ),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) callbacks.current.onChange(u.state.doc.toString());
        }),
        EditorView.contentAttributes.of({ 'aria-label': 'SQL editor', 'data-testid': 'sql-editor' }),
      ],
    });
    view.current = v;
    return () => v.destroy();
    // The editor is rebuilt only when the catalog changes; text changes flow through the update listener.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [schemaKey]);

  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value)
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
  }, [value]);

  return <div ref={host} className="code-editor" />;
}
