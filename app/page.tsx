import { awsClients } from '../lib/aws/clients.ts';
import { loadConfig } from '../lib/config.ts';
import { errorMessage } from '../lib/errors.ts';
import { pipelineStatus, type PipelineStatus } from '../lib/pipeline-status.ts';
import { MetricsOverview } from '../components/overview/MetricsOverview.tsx';
import { PipelineSummary } from '../components/overview/PipelineSummary.tsx';

export const dynamic = 'force-dynamic';

export default async function OverviewPage() {
  let status: PipelineStatus | undefined;
  let problem: string | undefined;
  try {
    const config = loadConfig();
    status = await pipelineStatus(config, awsClients(config));
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
