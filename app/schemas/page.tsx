import { Suspense } from 'react';
import { SchemaBrowser } from '@/components/schemas/SchemaBrowser.tsx';
import { PageHeader } from '@/components/ui/PageHeader.tsx';

export const metadata = { title: 'Schemas · Tributary console' };

export default function SchemasPage() {
  return (
    <>
      <PageHeader title="Schemas" description="Event types, their JSON Schema versions, and which fields fail." />
      <Suspense>
        <SchemaBrowser />
      </Suspense>
    </>
  );
}
