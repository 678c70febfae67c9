import { OltpOverview } from '@/components/oltp/OltpOverview.tsx';

export const metadata = { title: 'OLTP · Tributary console' };

export default function OltpPage() {
  return (
    <>
      <h1>OLTP database</h1>
      <OltpOverview />
    </>
  );
}
