import type { ReactNode } from 'react';

/**
 * Text shown as it is (JSON, a schema, a record), in a panel that scrolls past its height; the panel takes the keyboard
 * focus so it can be scrolled without a mouse (WCAG 2.1.1).
 */
export function CodeBlock({
  children,
  label,
  testId,
  as = 'pre',
  className,
}: {
  children: ReactNode;
  label: string;
  testId?: string;
  as?: 'pre' | 'div';
  className?: string;
}) {
  const Tag = as;
  return (
    <Tag className={`mono-block ${className ?? ''}`} tabIndex={0} aria-label={label} data-testid={testId}>
      {children}
    </Tag>
  );
}
