import { Suspense } from 'react';
import { sharedPipelineInventory } from '@/lib/composition.ts';
import { errorMessage } from '@/lib/errors.ts';
import { MetricsOverview } from '@/components/overview/MetricsOverview.tsx';
import { PipelineSummary } from '@/components/overview/PipelineSummary.tsx';

export const dynamic = 'force-dynamic';

/** The pipeline's counts, streamed in after the rest of the page: the first read of a large lake takes a while. */
async function PipelineCounts() {
  try {
    // Renders within 5 s share one read; a read lists the buckets and counts only what is new since the last.
    return <PipelineSummary status={await sharedPipelineInventory().status(5_000)} />;
  } catch (err) {
    return (
      <p className="error" role="alert">
        Cannot read the pipeline ({errorMessage(err)}). Start it with <code>npm run dev</code>.
      </p>
    );
  }
}

export default function OverviewPage() {
  return (
    <>
      <h1>Overview</h1>
      <MetricsOverview />
      <Suspense fallback={<p aria-busy="true">Counting what the pipeline holds…</p>}>
        <PipelineCounts />
      </Suspense>
    </>
  );
}
