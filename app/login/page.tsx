import { safeNext } from '@/lib/console/auth.ts';

export const metadata = { title: 'Sign in · Tributary console' };

/** What the sign-in route's redirect says went wrong (its error codes, lib/console/errors.ts). */
function problem(error: string | undefined, retry: string | undefined): string | null {
  if (!error) return null;
  const wait = Number(retry);
  if (error === 'throttled')
    return `Too many failed sign-ins. Try again in ${Number.isFinite(wait) && wait > 0 ? Math.ceil(wait) : 'a few'} s.`;
  if (error === 'bad_password' || error === '1') return 'Wrong password.';
  if (error === 'state_unavailable') return 'The console could not start a session. Try again in a few seconds.';
  return 'Sign-in failed. Try again.';
}

export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<{ next?: string; error?: string; retry?: string }>;
}) {
  const { next, error, retry } = await searchParams;
  const message = problem(error, retry);
  return (
    <section className="login" aria-labelledby="login">
      <h1 id="login">Sign in</h1>
      <form method="post" action="/api/login">
        <input type="hidden" name="next" value={safeNext(next)} />
        <label>
          Your name{' '}
          <input
            type="text"
            name="name"
            autoComplete="username"
            maxLength={64}
            placeholder="for the audit log (optional)"
          />
        </label>
        <label>
          {/* biome-ignore lint/a11y/noAutofocus: the page's one task is typing the password; focus there is what every sign-in page does. */}
          Console password <input type="password" name="password" autoComplete="current-password" required autoFocus />
        </label>
        <button type="submit">Sign in</button>
      </form>
      {message ? (
        <p className="error" role="alert">
          {message}
        </p>
      ) : null}
    </section>
  );
}
