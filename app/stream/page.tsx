import { Suspense } from 'react';
import { StreamBrowser } from '@/components/stream/StreamBrowser.tsx';
import { PageHeader } from '@/components/ui/PageHeader.tsx';

export const metadata = { title: 'Stream · Tributary console' };

export default function StreamPage() {
  return (
    <>
      <PageHeader title="Stream" description="The stream's shards and the records in each." />
      <Suspense>
        <StreamBrowser />
      </Suspense>
    </>
  );
}
