import { OltpOverview } from '@/components/oltp/OltpOverview.tsx';
import { PageHeader } from '@/components/ui/PageHeader.tsx';

export const metadata = { title: 'OLTP · Tributary console' };

export default function OltpPage() {
  return (
    <>
      <PageHeader title="OLTP database" description="The normalized transaction tables and the sink that fills them." />
      <OltpOverview />
    </>
  );
}
