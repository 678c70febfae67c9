import { SqlWorkspace } from '../../components/sql/SqlWorkspace.tsx';

export const metadata = { title: 'SQL · Tributary console' };

export default function SqlPage() {
  return (
    <>
      <h1>SQL workspace</h1>
      <SqlWorkspace />
    </>
  );
}
