import { AuditLog } from '@/components/audit/AuditLog.tsx';

export const metadata = { title: 'Audit log · Tributary console' };

export default function AuditPage() {
  return (
    <>
      <h1>Audit log</h1>
      <AuditLog />
    </>
  );
}
