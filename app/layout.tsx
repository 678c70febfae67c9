import type { ReactNode } from 'react';
import { headers } from 'next/headers';
import { ColorSchemeScript, mantineHtmlProps } from '@mantine/core';
import '@mantine/core/styles.css';
import '@mantine/spotlight/styles.css';
import './globals.css';
import { loadConfig } from '@/lib/config.ts';
import { AppFrame } from '@/components/ui/AppFrame.tsx';
import { Providers } from './providers.tsx';

export const metadata = { title: 'Tributary console', description: 'Operations console of the Tributary pipeline' };

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Set by proxy.ts for a signed-in session; absent when the console runs open (locally without a password).
  const h = await headers();
  const role = h.get('x-tributary-role');
  const name = h.get('x-tributary-user');
  const user = role ? { role, name: name ? decodeURIComponent(name) : role } : undefined;
  return (
    <html lang="en" {...mantineHtmlProps}>
      <head>
        <ColorSchemeScript defaultColorScheme="auto" />
      </head>
      <body>
        <Providers>
          <AppFrame stage={loadConfig().console.stage} user={user}>
            {children}
          </AppFrame>
        </Providers>
      </body>
    </html>
  );
}
