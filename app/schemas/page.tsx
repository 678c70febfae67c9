import { SchemaBrowser } from '@/components/schemas/SchemaBrowser.tsx';

export const metadata = { title: 'Schemas · Tributary console' };

export default function SchemasPage() {
  return (
    <>
      <h1>Schemas</h1>
      <SchemaBrowser />
    </>
  );
}
