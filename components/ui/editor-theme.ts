import { HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { EditorView } from '@codemirror/view';
import { tags } from '@lezer/highlight';

/*
 * The code editors' colours as CSS variables (app/globals.css sets them per colour scheme), so one editor follows the
 * console into dark mode without being rebuilt; CodeMirror's default highlight is for light backgrounds only and
 * falls below 4.5:1 on dark ones.
 */
const highlight = HighlightStyle.define([
  { tag: [tags.keyword, tags.operatorKeyword, tags.modifier], color: 'var(--cm-keyword)' },
  { tag: [tags.string, tags.special(tags.string)], color: 'var(--j-str)' },
  { tag: [tags.number, tags.bool, tags.null, tags.atom], color: 'var(--j-num)' },
  { tag: [tags.propertyName, tags.typeName], color: 'var(--j-key)' },
  {
    tag: [tags.comment, tags.lineComment, tags.blockComment],
    color: 'var(--mantine-color-dimmed)',
    fontStyle: 'italic',
  },
  { tag: tags.invalid, color: 'var(--tone-bad)' },
]);

const chrome = EditorView.theme({
  '&': { backgroundColor: 'var(--mantine-color-body)', color: 'var(--mantine-color-text)' },
  '.cm-content': { caretColor: 'var(--mantine-color-text)' },
  '.cm-gutters': {
    backgroundColor: 'var(--mantine-color-default)',
    color: 'var(--mantine-color-dimmed)',
    borderRight: '1px solid var(--mantine-color-default-border)',
  },
  '.cm-activeLine, .cm-activeLineGutter': { backgroundColor: 'var(--cm-active-line)' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground': { backgroundColor: 'var(--cm-selection)' },
  '.cm-cursor': { borderLeftColor: 'var(--mantine-color-text)' },
  '.cm-tooltip': {
    backgroundColor: 'var(--mantine-color-body)',
    color: 'var(--mantine-color-text)',
    border: '1px solid var(--mantine-color-default-border)',
  },
});

/** The editors' look: highlighting and chrome from the console's colour variables. */
export const editorTheme = [chrome, syntaxHighlighting(highlight)];
