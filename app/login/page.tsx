import { safeNext } from '../../lib/console/auth.ts';

export const metadata = { title: 'Sign in · Tributary console' };

export default async function LoginPage({ searchParams }: { searchParams: Promise<{ next?: string; error?: string }> }) {
  const { next, error } = await searchParams;
  return (
    <section className="login" aria-labelledby="login">
      <h1 id="login">Sign in</h1>
      <form method="post" action="/api/login">
        <input type="hidden" name="next" value={safeNext(next)} />
        <label>
          Your name <input type="text" name="name" autoComplete="username" maxLength={64} placeholder="for the audit log (optional)" />
        </label>
        <label>
          Console password <input type="password" name="password" autoComplete="current-password" required autoFocus />
        </label>
        <button type="submit">Sign in</button>
      </form>
      {error ? (
        <p className="error" role="alert">
          Wrong password.
        </p>
      ) : null}
    </section>
  );
}
