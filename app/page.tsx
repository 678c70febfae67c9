import { Suspense } from 'react';
import { sharedPipelineInventory } from '@/lib/composition.ts';
import { errorMessage } from '@/lib/errors.ts';
import { MetricsOverview } from '@/components/overview/MetricsOverview.tsx';
import { PipelineSummary } from '@/components/overview/PipelineSummary.tsx';
import { PageHeader } from '@/components/ui/PageHeader.tsx';
import { Loading, Problem } from '@/components/ui/States.tsx';

export const dynamic = 'force-dynamic';

/** The pipeline's counts, streamed in after the rest of the page: the first read of a large lake takes a while. */
async function PipelineCounts() {
  try {
    // Renders within 5 s share one read; a read lists the buckets and counts only what is new since the last.
    return <PipelineSummary status={await sharedPipelineInventory().status(5_000)} />;
  } catch (err) {
    return (
      <Problem>
        Cannot read the pipeline ({errorMessage(err)}). Start it with <code>npm run dev</code>.
      </Problem>
    );
  }
}

export default function OverviewPage() {
  return (
    <>
      <PageHeader
        title="Overview"
        description="Throughput per shard, the quarantine backlog and the lake's freshness."
      />
      <MetricsOverview />
      <Suspense fallback={<Loading>Counting what the pipeline holds…</Loading>}>
        <PipelineCounts />
      </Suspense>
    </>
  );
}
