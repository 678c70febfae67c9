import type { ReactNode } from 'react';
import './globals.css';

export const metadata = { title: 'Tributary console', description: 'Operations console of the Tributary pipeline' };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="topbar">
          <strong>Tributary</strong>
          <nav aria-label="Main">
            <a href="/">Overview</a>
          </nav>
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}
