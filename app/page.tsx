import { sharedPipelineInventory } from '@/lib/composition.ts';
import { errorMessage } from '@/lib/errors.ts';
import type { PipelineStatus } from '@/lib/pipeline-status.ts';
import { MetricsOverview } from '@/components/overview/MetricsOverview.tsx';
import { PipelineSummary } from '@/components/overview/PipelineSummary.tsx';

export const dynamic = 'force-dynamic';

export default async function OverviewPage() {
  let status: PipelineStatus | undefined;
  let problem: string | undefined;
  try {
    // Renders within 5 s share one read; a read lists the buckets and counts only what is new since the last.
    status = await sharedPipelineInventory().status(5_000);
  } catch (err) {
    problem = errorMessage(err);
  }
  return (
    <>
      <h1>Overview</h1>
      <MetricsOverview />
      {status ? (
        <PipelineSummary status={status} />
      ) : (
        <p className="error" role="alert">
          Cannot read the pipeline ({problem}). Start it with <code>npm run dev</code>.
        </p>
      )}
    </>
  );
}
