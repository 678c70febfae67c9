import { AuditLog } from '@/components/audit/AuditLog.tsx';
import { PageHeader } from '@/components/ui/PageHeader.tsx';

export const metadata = { title: 'Audit log · Tributary console' };

export default function AuditPage() {
  return (
    <>
      <PageHeader
        title="Audit log"
        description="Who re-drove, discarded, exported or read unmasked what, when, and how it went."
      />
      <AuditLog />
    </>
  );
}
