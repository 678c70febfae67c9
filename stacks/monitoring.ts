/**
 * Alarms of the pipeline, all to one SNS topic (with an e-mail subscription when TRIBUTARY_ALARM_EMAIL is set):
 * - ingest: the API answering 5xx (API Gateway's own metric: function errors, authorizer failures, timeouts and the
 *   503s ingest answers when it cannot put events on the stream), and the ingest and authorizer functions failing;
 * - the lake writer and the OLTP sink falling behind (iterator age) or failing (errors; for the sink also the batches
 *   it stopped on an unavailable database, from its OltpBatchesFailed EMF metric);
 * - the compactor failing, not running for two hours, or skipping partitions it could not compact;
 * - the re-drive worker failing;
 * - table imports: the applier falling behind or failing, the job failing, and exports it failed, refused or holds for
 *   an operator (its ImportsFailed/ImportsRefused/ImportsHeld EMF metrics);
 * - write throttles on the stream, a spike of invalid events per type (from the EventsAccepted/EventsRejected metrics
 *   the ingest function emits with Powertools/EMF), and every batch Lambda gives up on and writes to the on-failure
 *   destination.
 *
 * `treatMissingData` is `notBreaching` for counts of failures (no data means nothing ran, so nothing failed) and
 * `breaching` only where silence is the failure (the compactor not running).
 */
import {
  COMPACTION_METRICS,
  IMPORT_METRICS,
  OLTP_METRICS,
  PIPELINE_NAMESPACE,
  PIPELINE_SERVICE,
} from '../lib/metrics/types.ts';
import { Registry } from '../lib/registry/registry.ts';
import path from 'node:path';
import { compactor } from './analytics.ts';
import { api, authorizerFunction, ingest } from './api.ts';
import { redriveWorker } from './console.ts';
import { oltpSinkFunction } from './database.ts';
import { importApplierFunction, importJobFunction } from './imports.ts';
import { settings } from './settings.ts';
import { quarantine } from './storage.ts';
import { events, lakeWriterFunction } from './stream.ts';

export const alarmsTopic = new sst.aws.SnsTopic('Alarms');

if (settings.alarmEmail) {
  new aws.sns.TopicSubscription('AlarmsEmail', {
    topic: alarmsTopic.arn,
    protocol: 'email',
    endpoint: settings.alarmEmail,
  });
}

const notify = { alarmActions: [alarmsTopic.arn], okActions: [alarmsTopic.arn], treatMissingData: 'notBreaching' };
const lakeWriterName = lakeWriterFunction.name;

/**
 * Any failed invocation of a function in `periodSeconds` (Lambda's Errors: an exception out of the handler, a timeout,
 * running out of memory).
 */
function functionErrorsAlarm(
  name: string,
  functionName: $util.Input<string>,
  description: string,
  periodSeconds = 300,
): aws.cloudwatch.MetricAlarm {
  return anyCountAlarm(
    name,
    { namespace: 'AWS/Lambda', metricName: 'Errors', dimensions: { FunctionName: functionName } },
    description,
    periodSeconds,
  );
}

/** Any count of one of Tributary's own EMF metrics (lib/observability.ts) in `periodSeconds`. */
function countAlarm(
  name: string,
  metric: string,
  description: string,
  periodSeconds = 300,
): aws.cloudwatch.MetricAlarm {
  return anyCountAlarm(
    name,
    { namespace: PIPELINE_NAMESPACE, metricName: metric, dimensions: { service: PIPELINE_SERVICE } },
    description,
    periodSeconds,
  );
}

/** An alarm on any count of `metric` (its Sum above 0) in one period of `periodSeconds`. */
function anyCountAlarm(
  name: string,
  metric: { namespace: string; metricName: string; dimensions: Record<string, $util.Input<string>> },
  description: string,
  periodSeconds: number,
): aws.cloudwatch.MetricAlarm {
  return new aws.cloudwatch.MetricAlarm(name, {
    ...notify,
    alarmDescription: description,
    ...metric,
    statistic: 'Sum',
    period: periodSeconds,
    evaluationPeriods: 1,
    threshold: 0,
    comparisonOperator: 'GreaterThanThreshold',
  });
}

/** A consumer more than `iteratorAgeMs` behind the stream for 5 minutes (Lambda's IteratorAge of its function). */
function iteratorAgeAlarmOf(
  name: string,
  functionName: $util.Input<string>,
  description: string,
): aws.cloudwatch.MetricAlarm {
  return new aws.cloudwatch.MetricAlarm(name, {
    ...notify,
    alarmDescription: description,
    namespace: 'AWS/Lambda',
    metricName: 'IteratorAge',
    dimensions: { FunctionName: functionName },
    statistic: 'Maximum',
    period: 60,
    evaluationPeriods: 5,
    threshold: settings.alarms.iteratorAgeMs,
    comparisonOperator: 'GreaterThanThreshold',
  });
}

/** The lake writer is more than `iteratorAgeMs` behind the stream for 5 minutes: data is not reaching the lake. */
export const iteratorAgeAlarm = iteratorAgeAlarmOf(
  'LakeWriterIteratorAge',
  lakeWriterName,
  'The lake writer is falling behind the events stream (Lambda IteratorAge).',
);

/** Any lake-writer invocation error in 5 minutes (it retries and bisects, but errors mean something is wrong). */
export const lakeWriterErrorsAlarm = functionErrorsAlarm(
  'LakeWriterErrors',
  lakeWriterName,
  'The lake writer failed invocations (see its logs).',
);

const oltpSinkName = oltpSinkFunction.name;

/**
 * The OLTP sink is more than `iteratorAgeMs` behind for 5 minutes: transactions are not reaching the database. It
 * retries a failed batch forever, so an outage of the database shows here (and in the two alarms below), never as
 * lost data.
 */
export const oltpSinkIteratorAgeAlarm = iteratorAgeAlarmOf(
  'OltpSinkIteratorAge',
  oltpSinkName,
  'The OLTP sink is falling behind the events stream (Lambda IteratorAge); is the database reachable?',
);

/**
 * Any OLTP sink invocation error in 5 minutes: a crash, a timeout, a configuration error (the handler quarantines the
 * events the database refuses and reports an unavailable database as a partial failure, counted by the next alarm).
 */
export const oltpSinkErrorsAlarm = functionErrorsAlarm(
  'OltpSinkErrors',
  oltpSinkName,
  'The OLTP sink failed invocations (see its logs).',
);

/** Batches the sink stopped because the database was unavailable (EMF metric of lib/observability.ts recordOltpBatch). */
export const oltpBatchesFailedAlarm = countAlarm(
  'OltpBatchesFailed',
  OLTP_METRICS.failed,
  'The OLTP sink could not apply batches: the database was unavailable (they are retried until it is back).',
);

const importApplierName = importApplierFunction.name;

/** The import applier is more than `iteratorAgeMs` behind for 5 minutes: imported operations are not reaching Postgres. */
export const importApplierIteratorAgeAlarm = iteratorAgeAlarmOf(
  'ImportApplierIteratorAge',
  importApplierName,
  'The import applier is falling behind the events stream (Lambda IteratorAge); is the database reachable?',
);

/** Any import applier invocation error in 5 minutes (a database outage is a partial failure, retried, and shows above). */
export const importApplierErrorsAlarm = functionErrorsAlarm(
  'ImportApplierErrors',
  importApplierName,
  'The import applier failed invocations (see its logs).',
);

/** Any failed invocation of the import job in 5 minutes (it keeps its progress; the next sweep resumes). */
export const importJobErrorsAlarm = functionErrorsAlarm(
  'ImportJobErrors',
  importJobFunction.name,
  'The import job failed invocations (see its logs); the sweep resumes every minute.',
);

/** Exports the import job ended failed, refused or held in 5 minutes (EMF metrics of recordImports). */
export const importsFailedAlarm = countAlarm(
  'ImportsFailed',
  IMPORT_METRICS.failed,
  'An import failed: its table is not defined, it changed, or its object changed (`tributary import show <id>`).',
);
export const importsRefusedAlarm = countAlarm(
  'ImportsRefused',
  IMPORT_METRICS.refused,
  'An export was refused: bad rows, empty or repeated keys, or an older version (its rows are in the quarantine, stage import).',
);
export const importsHeldAlarm = countAlarm(
  'ImportsHeld',
  IMPORT_METRICS.held,
  'An import waits for an operator: it would delete more than the delete guard allows (`tributary import approve|reject <id>`).',
);

/**
 * Any 5xx answer of the ingest API in 5 minutes (HTTP API metric `5xx` of its default stage). Every one is a request
 * whose events were not accepted: the function or the authorizer failed or timed out, or ingest could not put the
 * events on the stream and answered 503 (the client must retry). Health checks of a degraded stream count too.
 */
export const api5xxAlarm = new aws.cloudwatch.MetricAlarm('Api5xx', {
  ...notify,
  alarmDescription:
    'The ingest API answered 5xx: events were not accepted (see the ingest and authorizer alarms, the stream throttles and the access log).',
  namespace: 'AWS/ApiGateway',
  metricName: '5xx',
  dimensions: { ApiId: api.nodes.api.id, Stage: '$default' },
  statistic: 'Sum',
  period: 300,
  evaluationPeriods: 1,
  threshold: 0,
  comparisonOperator: 'GreaterThanThreshold',
});

/** Any failed invocation of the ingest function in 5 minutes (API Gateway answers those requests 500). */
export const ingestErrorsAlarm = functionErrorsAlarm(
  'IngestErrors',
  ingest.name,
  'The ingest function failed invocations: requests got 500 (see its logs).',
);

/** Any failed invocation of the API-key authorizer in 5 minutes (API Gateway answers those requests 500, even with a valid key). */
export const authorizerErrorsAlarm = functionErrorsAlarm(
  'IngestAuthorizerErrors',
  authorizerFunction.name,
  'The API-key authorizer failed invocations: requests got 500 whatever their key (see its logs).',
);

const compactorName = compactor.nodes.function.name;

/** Any failed compaction run in an hour (a crash or its 15-minute timeout; it resumes where it stopped on the next run). */
export const compactorErrorsAlarm = functionErrorsAlarm(
  'CompactorErrors',
  compactorName,
  'A compaction run failed (see its logs); the next run resumes where it stopped.',
  3600,
);

/**
 * The compactor was not invoked for two consecutive hours although it is scheduled every hour: its schedule or its
 * permission to be invoked is broken, and the lake's small objects pile up. No data is the failure here, so missing
 * data breaches.
 */
export const compactorNotRunningAlarm = new aws.cloudwatch.MetricAlarm('CompactorNotRunning', {
  ...notify,
  treatMissingData: 'breaching',
  alarmDescription: 'The hourly compactor has not run for two hours (check its EventBridge schedule).',
  namespace: 'AWS/Lambda',
  metricName: 'Invocations',
  dimensions: { FunctionName: compactorName },
  statistic: 'Sum',
  period: 3600,
  evaluationPeriods: 2,
  datapointsToAlarm: 2,
  threshold: 1,
  comparisonOperator: 'LessThanThreshold',
});

/** Any partition a compaction run had to skip, in an hour: that partition stays JSONL until someone looks. */
export const compactionFailedPartitionsAlarm = countAlarm(
  'CompactionFailedPartitions',
  // The compactor's count of partition-hours it could not compact in a run (it carries on with the others).
  COMPACTION_METRICS.failed,
  'The compactor skipped partitions it could not compact (its log names them and why); the others were compacted.',
  3600,
);

/**
 * Any failed invocation of the re-drive worker in 5 minutes (a job it could not load, a timeout, a crash; Lambda retries
 * an asynchronous invocation twice). A job that stops on an error it catches ends `failed` in the console instead.
 */
export const redriveWorkerErrorsAlarm = functionErrorsAlarm(
  'RedriveWorkerErrors',
  redriveWorker.name,
  'The re-drive worker failed invocations (see its logs and the job in the console).',
);

/** Producers are being throttled by the stream: add shards (TRIBUTARY_SHARDS). */
export const writeThrottlesAlarm = new aws.cloudwatch.MetricAlarm('StreamWriteThrottles', {
  ...notify,
  alarmDescription: 'PutRecords are throttled by the events stream; add shards (TRIBUTARY_SHARDS) or slow producers.',
  namespace: 'AWS/Kinesis',
  metricName: 'WriteProvisionedThroughputExceeded',
  dimensions: { StreamName: events.name },
  statistic: 'Sum',
  period: 300,
  evaluationPeriods: 1,
  threshold: 0,
  comparisonOperator: 'GreaterThanThreshold',
});

/**
 * Per event type: the share of rejected events over 5 minutes above `invalidRate`, once at least
 * `invalidRateMinEvents` arrived (a handful of bad events in a quiet period is not a spike).
 */
export const invalidRateAlarms = new Registry(path.join($cli.paths.root, 'schemas')).names().map((type) => {
  const metric = (id: string, name: string) => ({
    id,
    returnData: false,
    metric: {
      namespace: PIPELINE_NAMESPACE,
      metricName: name,
      dimensions: { service: PIPELINE_SERVICE, type },
      stat: 'Sum',
      period: 300,
    },
  });
  return new aws.cloudwatch.MetricAlarm(`InvalidRate_${type}`, {
    ...notify,
    alarmDescription: `More than ${settings.alarms.invalidRate * 100} % of ${type} events were rejected in 5 minutes (see the console's Quarantine page).`,
    evaluationPeriods: 1,
    threshold: settings.alarms.invalidRate,
    comparisonOperator: 'GreaterThanThreshold',
    metricQueries: [
      metric('accepted', 'EventsAccepted'),
      metric('rejected', 'EventsRejected'),
      {
        id: 'rate',
        label: `${type} invalid rate`,
        returnData: true,
        expression: `IF((accepted + rejected) >= ${settings.alarms.invalidRateMinEvents}, rejected / (accepted + rejected), 0)`,
      },
    ],
  });
});

// Every object Lambda writes to the on-failure destination (aws/lambda/… in the quarantine bucket) is a batch the lake
// writer (or the OLTP sink, should its retries ever be limited) gave up on: each one is announced on the alarms topic.
quarantine.notify({
  notifications: [
    { name: 'OnFailureBatches', topic: alarmsTopic, events: ['s3:ObjectCreated:*'], filterPrefix: 'aws/lambda/' },
  ],
});
