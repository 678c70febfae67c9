'use client';
import { Kbd, Modal, Table } from '@mantine/core';
import { SHORTCUTS } from './shortcuts.ts';

/** The list of shortcuts (`?`). */
export function ShortcutHelp({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  return (
    <Modal opened={opened} onClose={onClose} title="Keyboard shortcuts" size="lg">
      <Table fz="sm" data-testid="shortcuts">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>keys</Table.Th>
            <Table.Th>does</Table.Th>
            <Table.Th>where</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {SHORTCUTS.map((s) => (
            <Table.Tr key={`${s.where}:${s.keys}`}>
              <Table.Td>
                <Kbd size="xs">{s.keys}</Kbd>
              </Table.Td>
              <Table.Td>{s.what}</Table.Td>
              <Table.Td>{s.where}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Modal>
  );
}
