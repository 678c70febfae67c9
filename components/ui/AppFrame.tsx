'use client';
import type { ReactNode } from 'react';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import {
  AppShell,
  Badge,
  Burger,
  Button,
  Group,
  Menu,
  NavLink,
  Text,
  UnstyledButton,
  useMantineColorScheme,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';

/** The console's pages, in the sidebar's order. */
export const PAGES = [
  { href: '/', label: 'Overview', about: 'throughput per shard, lag, the pipeline at a glance' },
  { href: '/stream', label: 'Stream', about: 'shards and their records' },
  { href: '/sql', label: 'SQL', about: 'query the lake' },
  { href: '/oltp', label: 'OLTP', about: 'the operational database and its sink' },
  { href: '/quarantine', label: 'Quarantine', about: 'records that failed, fix and re-drive' },
  { href: '/schemas', label: 'Schemas', about: 'event types and their validation failures' },
  { href: '/audit', label: 'Audit', about: 'who re-drove, discarded or exported what' },
] as const;

function isCurrent(path: string, href: string): boolean {
  return href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`);
}

/** Light, dark, or whatever the system says (the default); kept in the browser's local storage. */
function ColorSchemeMenu() {
  const { colorScheme, setColorScheme } = useMantineColorScheme();
  const choices = [
    { value: 'auto', label: 'Follow the system' },
    { value: 'light', label: 'Light' },
    { value: 'dark', label: 'Dark' },
  ] as const;
  return (
    <Menu position="bottom-end" withinPortal>
      <Menu.Target>
        <Button variant="default" size="compact-sm" aria-label="Colour scheme">
          <span aria-hidden="true">◐</span>&nbsp;Theme
        </Button>
      </Menu.Target>
      <Menu.Dropdown>
        {choices.map((c) => (
          <Menu.Item
            key={c.value}
            onClick={() => setColorScheme(c.value)}
            aria-checked={colorScheme === c.value}
            role="menuitemradio"
            fw={colorScheme === c.value ? 600 : undefined}
          >
            {c.label}
          </Menu.Item>
        ))}
      </Menu.Dropdown>
    </Menu>
  );
}

/**
 * The frame of every page: a header with the stage and who is signed in, a sidebar with the pages, and the page.
 * The sign-in page gets the page alone.
 */
export function AppFrame({
  stage,
  user,
  children,
}: {
  stage: string;
  /** The signed-in user (absent when the console runs without sign-in). */
  user?: { name: string; role: string } | undefined;
  children: ReactNode;
}) {
  const path = usePathname();
  const [opened, { toggle, close }] = useDisclosure();
  if (path === '/login') return <main className="login-main">{children}</main>;
  return (
    <AppShell
      header={{ height: 52 }}
      navbar={{ width: 210, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Show the pages" />
            <UnstyledButton component={Link} href="/" fw={700} fz="lg">
              Tributary
            </UnstyledButton>
            <Badge variant="light" color={stage === 'production' ? 'red' : 'gray'} data-testid="stage" title="stage">
              {stage}
            </Badge>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <ColorSchemeMenu />
            {user ? (
              <form method="post" action="/api/logout" className="session">
                <Group gap="xs" wrap="nowrap">
                  <Text size="sm" data-testid="signed-in">
                    {user.name}{' '}
                    <Text span size="xs" c="dimmed">
                      ({user.role})
                    </Text>
                  </Text>
                  <Button type="submit" variant="default" size="compact-sm">
                    Sign out
                  </Button>
                </Group>
              </form>
            ) : null}
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Main">
        {PAGES.map((p) => (
          <NavLink
            key={p.href}
            component={Link}
            href={p.href}
            label={p.label}
            title={p.about}
            active={isCurrent(path, p.href)}
            aria-current={isCurrent(path, p.href) ? 'page' : undefined}
            onClick={close}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>{children}</AppShell.Main>
    </AppShell>
  );
}
