'use client';
import type { ReactNode } from 'react';
import Link from 'next/link';
import { usePathname, useRouter } from 'next/navigation';
import {
  AppShell,
  Badge,
  Burger,
  Button,
  Group,
  Menu,
  NavLink,
  Kbd,
  Text,
  UnstyledButton,
  useComputedColorScheme,
  useMantineColorScheme,
} from '@mantine/core';
import { useDisclosure, useHotkeys } from '@mantine/hooks';
import { spotlight } from '@mantine/spotlight';
import { CommandPalette } from './CommandPalette.tsx';
import { PAGES } from './pages.ts';
import { focusFilter } from './shortcuts.ts';
import { ShortcutHelp } from './ShortcutHelp.tsx';

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
  const router = useRouter();
  const [opened, { toggle, close }] = useDisclosure();
  const [help, helpOpen] = useDisclosure();
  const { setColorScheme } = useMantineColorScheme();
  const scheme = useComputedColorScheme('light');
  useHotkeys([
    ['/', focusFilter],
    ['shift+?', helpOpen.open],
    ['shift+T', () => setColorScheme(scheme === 'dark' ? 'light' : 'dark')],
  ]);
  // With a modifier, a key types nothing into a field: these work wherever the cursor is, editors included.
  useHotkeys(
    PAGES.map((p, i): [string, () => void] => [`alt+${i + 1}`, () => router.push(p.href)]),
    [],
    true,
  );
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
            <Button
              variant="default"
              size="compact-sm"
              onClick={() => spotlight.open()}
              aria-label="Open the command palette"
            >
              Search&nbsp;<Kbd size="xs">Ctrl K</Kbd>
            </Button>
            <Button variant="subtle" size="compact-sm" onClick={helpOpen.open} aria-label="Keyboard shortcuts">
              ?
            </Button>
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
      <CommandPalette />
      <ShortcutHelp opened={help} onClose={helpOpen.close} />
    </AppShell>
  );
}
