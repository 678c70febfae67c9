'use client';
import { useEffect, useRef } from 'react';
import { json } from '@codemirror/lang-json';
import { EditorView } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import { editorTheme } from '@/components/ui/editor-theme.ts';

interface Props {
  value: string;
  onChange: (text: string) => void;
  label: string;
  readOnly?: boolean;
}

/** CodeMirror with JSON highlighting, for fixing a quarantined event. */
export function JsonEditor({ value, onChange, label, readOnly = false }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const changed = useRef(onChange);
  changed.current = onChange;

  // biome-ignore lint/correctness/useExhaustiveDependencies: the editor is built once; later values reach it through its own transactions (below), not by rebuilding it.
  useEffect(() => {
    const v = new EditorView({
      parent: host.current!,
      doc: value,
      extensions: [
        basicSetup,
        editorTheme,
        json(),
        EditorView.lineWrapping,
        EditorView.editable.of(!readOnly),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) changed.current(u.state.doc.toString());
        }),
        EditorView.contentAttributes.of({ 'aria-label': label, 'data-testid': 'fix-editor' }),
      ],
    });
    view.current = v;
    return () => v.destroy();
    // Built once per record (the parent keys it by record); text flows out through the update listener.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value)
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
  }, [value]);

  return <div ref={host} className="code-editor" />;
}
