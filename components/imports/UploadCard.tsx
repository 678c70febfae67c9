'use client';
import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Button,
  FileInput,
  Group,
  Paper,
  Progress,
  SegmentedControl,
  Select,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import type { ImportsOverview } from '@/lib/imports/service.ts';
import type { UploadTarget } from '@/lib/imports/uploads.ts';
import type { SchemaListing } from '@/lib/registry/listing.ts';
import { Problem } from '@/components/ui/States.tsx';
import { api, formatBytes } from '../api.ts';

type Kind = 'export' | 'raw';

/**
 * PUTs the file to its presigned URL with progress (fetch reports none for uploads). Resolves when S3 has it;
 * rejects with S3's own message when it refused it.
 */
function put(target: UploadTarget, file: File, onProgress: (sent: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(target.method, target.url);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      else {
        // S3 answers refusals as an XML Error document; its Message says why.
        const message = new DOMParser()
          .parseFromString(xhr.responseText || '<Error/>', 'application/xml')
          .querySelector('Message')?.textContent;
        reject(new Error(`The imports bucket refused the upload (${xhr.status}): ${message ?? xhr.statusText}`));
      }
    };
    xhr.onerror = () =>
      reject(
        new Error('The upload did not reach the imports bucket (network, or the bucket does not allow this site).'),
      );
    xhr.send(file);
  });
}

/** Upload of an export or a raw event file to its drop location (operators): the bucket's notification does the rest. */
export function UploadCard({ definitions }: { definitions: ImportsOverview['definitions'] }) {
  const client = useQueryClient();
  const types = useQuery({ queryKey: ['schemas'], queryFn: () => api<SchemaListing[]>('/api/schemas') });
  const [kind, setKind] = useState<Kind>('export');
  const [table, setTable] = useState<string | null>(definitions[0]?.name ?? null);
  const [tenant, setTenant] = useState('');
  const [version, setVersion] = useState('');
  const [type, setType] = useState<string | null>(null);
  const [file, setFile] = useState<File | null>(null);
  const [sent, setSent] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const busy = sent !== null;

  const submit = async () => {
    if (!file) return;
    setError(null);
    setDone(null);
    setSent(0);
    try {
      const body =
        kind === 'export'
          ? { kind, tenant, table, version, file: file.name, size: file.size }
          : { kind, type, file: file.name, size: file.size };
      const target = await api<UploadTarget>('/api/imports/uploads', { method: 'POST', body: JSON.stringify(body) });
      await put(target, file, setSent);
      setDone(target.key);
      setFile(null);
      await client.invalidateQueries({ queryKey: ['imports'] });
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setSent(null);
    }
  };

  const ready = !!file && (kind === 'export' ? !!table && !!tenant && !!version : !!type);
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="import-upload-title">
      <Title order={2} id="import-upload-title" fz="lg" mb="xs">
        Upload a file
      </Title>
      <Stack gap="xs">
        <SegmentedControl
          aria-label="What the file is"
          value={kind}
          onChange={(v) => setKind(v as Kind)}
          data={[
            { value: 'export', label: 'Table export' },
            { value: 'raw', label: 'Raw event file' },
          ]}
          w="fit-content"
        />
        {kind === 'export' ? (
          <Group align="flex-end" gap="sm">
            <Select
              label="Table"
              data={definitions.map((d) => ({ value: d.name, label: d.name }))}
              value={table}
              onChange={setTable}
              allowDeselect={false}
              w={180}
            />
            <TextInput
              label="Tenant"
              placeholder="acme"
              value={tenant}
              onChange={(e) => setTenant(e.currentTarget.value)}
              w={160}
            />
            <TextInput
              label="Export version"
              placeholder="20201230_V0001"
              description="versions apply in text order"
              value={version}
              onChange={(e) => setVersion(e.currentTarget.value)}
              w={200}
            />
          </Group>
        ) : (
          <Select
            label="Event type"
            data={(types.data ?? []).map((t) => t.name)}
            value={type}
            onChange={setType}
            placeholder={types.isPending ? 'loading the types…' : 'pick the type of its events'}
            w={240}
          />
        )}
        <Group align="flex-end" gap="sm">
          <FileInput
            label="File"
            placeholder={
              kind === 'export' ? 'an export (.csv or .csv.gz)' : 'CSV with a header, JSON or NDJSON (.gz too)'
            }
            value={file}
            onChange={setFile}
            clearable
            w={360}
          />
          <Button onClick={submit} disabled={!ready || busy} loading={busy}>
            Upload
          </Button>
        </Group>
        {busy && file ? (
          <Stack gap={2}>
            <Progress value={file.size ? (100 * (sent ?? 0)) / file.size : 100} aria-label="Upload progress" />
            <Text size="xs" c="dimmed">
              {formatBytes(sent ?? 0)} of {formatBytes(file.size)}
            </Text>
          </Stack>
        ) : null}
        {error ? <Problem testId="upload-error">{error}</Problem> : null}
        {done ? (
          <Text size="sm" data-testid="upload-done" role="status">
            Uploaded to <code>{done}</code>. The bucket&apos;s notification starts its{' '}
            {done.startsWith('raw/') ? 'load' : 'import'}; it appears below within seconds.
          </Text>
        ) : null}
      </Stack>
    </Paper>
  );
}
