import { createTheme, type CSSVariablesResolver } from '@mantine/core';

/**
 * The console's theme. Shade 8 of the primary colour (not Mantine's default 6) and a darker "dimmed" text in light
 * mode, because white on blue-6 and gray-6 on white are below WCAG AA's 4.5:1, and the browser tests fail the console
 * on axe-core's serious findings (color-contrast among them).
 */
export const theme = createTheme({
  primaryColor: 'blue',
  primaryShade: { light: 8, dark: 8 },
  defaultRadius: 'sm',
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  fontFamilyMonospace: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
  headings: { sizes: { h1: { fontSize: '1.5rem' }, h2: { fontSize: '1.15rem' }, h3: { fontSize: '1rem' } } },
  components: {
    // A link inside text must not be told apart by colour alone (WCAG 1.4.1; axe link-in-text-block).
    Anchor: { defaultProps: { underline: 'always' } },
    Table: { defaultProps: { verticalSpacing: 4, horizontalSpacing: 'sm', fz: 'sm' } },
  },
});

/**
 * Dimmed text, and the placeholders of inputs that draw them as text (a file input's), at 4.5:1 on the page
 * background in both schemes.
 */
export const cssVariablesResolver: CSSVariablesResolver = (t) => ({
  variables: {},
  light: { '--mantine-color-dimmed': t.colors.gray[7], '--mantine-color-placeholder': t.colors.gray[7] },
  dark: { '--mantine-color-dimmed': t.colors.dark[1], '--mantine-color-placeholder': t.colors.dark[1] },
});
