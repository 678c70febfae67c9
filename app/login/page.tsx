import { Alert, Button, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
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
    <Paper withBorder p="xl" w={380} maw="100%" component="section" aria-labelledby="login">
      <Stack gap="md">
        <div>
          <Title order={1} id="login">
            Sign in
          </Title>
          <Text size="sm" c="dimmed">
            Tributary console
          </Text>
        </div>
        <form method="post" action="/api/login">
          <Stack gap="sm">
            <input type="hidden" name="next" value={safeNext(next)} />
            <TextInput
              label="Your name"
              name="name"
              autoComplete="username"
              maxLength={64}
              placeholder="for the audit log (optional)"
            />
            {/* The page's one task is typing the password; focus there is what every sign-in page does. */}
            <PasswordInput
              label="Console password"
              name="password"
              autoComplete="current-password"
              required
              autoFocus
            />
            <Button type="submit">Sign in</Button>
          </Stack>
        </form>
        {message ? (
          <Alert color="red" variant="light" role="alert">
            {message}
          </Alert>
        ) : null}
      </Stack>
    </Paper>
  );
}
