import type { ReactNode } from 'react';
import { headers } from 'next/headers';
import './globals.css';
import { Providers } from './providers.tsx';

export const metadata = { title: 'Tributary console', description: 'Operations console of the Tributary pipeline' };

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Set by proxy.ts for a signed-in session; absent when the console runs open (locally without a password).
  const role = (await headers()).get('x-tributary-role');
  return (
    <html lang="en">
      <body>
        <header className="topbar">
          <strong>Tributary</strong>
          <nav aria-label="Main">
            <a href="/">Overview</a>
            <a href="/stream">Stream</a>
            <a href="/sql">SQL</a>
            <a href="/oltp">OLTP</a>
            <a href="/quarantine">Quarantine</a>
            <a href="/schemas">Schemas</a>
            <a href="/audit">Audit</a>
          </nav>
          {role ? (
            <form method="post" action="/api/logout" className="session">
              <span className="muted">{role}</span> <button type="submit">Sign out</button>
            </form>
          ) : null}
        </header>
        <main>
          <Providers>{children}</Providers>
        </main>
      </body>
    </html>
  );
}
