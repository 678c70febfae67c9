import { StreamBrowser } from '@/components/stream/StreamBrowser.tsx';

export const metadata = { title: 'Stream · Tributary console' };

export default function StreamPage() {
  return (
    <>
      <h1>Stream</h1>
      <StreamBrowser />
    </>
  );
}
