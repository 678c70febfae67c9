import type { ReactNode } from 'react';
import './globals.css';
import { Providers } from './providers.tsx';

export const metadata = { title: 'Tributary console', description: 'Operations console of the Tributary pipeline' };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="topbar">
          <strong>Tributary</strong>
          <nav aria-label="Main">
            <a href="/">Overview</a>
            <a href="/stream">Stream</a>
            <a href="/sql">SQL</a>
            <a href="/schemas">Schemas</a>
          </nav>
        </header>
        <main>
          <Providers>{children}</Providers>
        </main>
      </body>
    </html>
  );
}
