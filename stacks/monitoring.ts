/**
 * Alarms of the pipeline, all to one SNS topic (with an e-mail subscription when TRIBUTARY_ALARM_EMAIL is set):
 * the lake writer and the OLTP sink falling behind (iterator age) or failing (errors; for the sink also the batches
 * it stopped on an unavailable database, from its OltpBatchesFailed EMF metric), write throttles on the stream, a spike
 * of invalid events per type (from the EventsAccepted/EventsRejected metrics the ingest function emits with
 * Powertools/EMF), and every batch Lambda gives up on and writes to the on-failure destination.
 */
import { PIPELINE_NAMESPACE, PIPELINE_SERVICE } from '../lib/metrics/types.ts';
import { Registry } from '../lib/registry/registry.ts';
import path from 'node:path';
import { oltpSinkFunction } from './database.ts';
import { settings } from './settings.ts';
import { quarantine } from './storage.ts';
import { events, lakeWriterFunction } from './stream.ts';

export const alarmsTopic = new sst.aws.SnsTopic('Alarms');

if (settings.alarmEmail) {
  new aws.sns.TopicSubscription('AlarmsEmail', { topic: alarmsTopic.arn, protocol: 'email', endpoint: settings.alarmEmail });
}

const notify = { alarmActions: [alarmsTopic.arn], okActions: [alarmsTopic.arn], treatMissingData: 'notBreaching' };
const lakeWriterName = lakeWriterFunction.name;

/** The lake writer is more than `iteratorAgeMs` behind the stream for 5 minutes: data is not reaching the lake. */
export const iteratorAgeAlarm = new aws.cloudwatch.MetricAlarm('LakeWriterIteratorAge', {
  ...notify,
  alarmDescription: 'The lake writer is falling behind the events stream (Lambda IteratorAge).',
  namespace: 'AWS/Lambda',
  metricName: 'IteratorAge',
  dimensions: { FunctionName: lakeWriterName },
  statistic: 'Maximum',
  period: 60,
  evaluationPeriods: 5,
  threshold: settings.alarms.iteratorAgeMs,
  comparisonOperator: 'GreaterThanThreshold',
});

/** Any lake-writer invocation error in 5 minutes (it retries and bisects, but errors mean something is wrong). */
export const lakeWriterErrorsAlarm = new aws.cloudwatch.MetricAlarm('LakeWriterErrors', {
  ...notify,
  alarmDescription: 'The lake writer failed invocations (see its logs).',
  namespace: 'AWS/Lambda',
  metricName: 'Errors',
  dimensions: { FunctionName: lakeWriterName },
  statistic: 'Sum',
  period: 300,
  evaluationPeriods: 1,
  threshold: 0,
  comparisonOperator: 'GreaterThanThreshold',
});

const oltpSinkName = oltpSinkFunction.name;

/**
 * The OLTP sink is more than `iteratorAgeMs` behind for 5 minutes: transactions are not reaching the database. It
 * retries a failed batch forever, so an outage of the database shows here (and in the two alarms below), never as
 * lost data.
 */
export const oltpSinkIteratorAgeAlarm = new aws.cloudwatch.MetricAlarm('OltpSinkIteratorAge', {
  ...notify,
  alarmDescription: 'The OLTP sink is falling behind the events stream (Lambda IteratorAge); is the database reachable?',
  namespace: 'AWS/Lambda',
  metricName: 'IteratorAge',
  dimensions: { FunctionName: oltpSinkName },
  statistic: 'Maximum',
  period: 60,
  evaluationPeriods: 5,
  threshold: settings.alarms.iteratorAgeMs,
  comparisonOperator: 'GreaterThanThreshold',
});

/**
 * Any OLTP sink invocation error in 5 minutes: a crash, a timeout, a configuration error (the handler quarantines the
 * events the database refuses and reports an unavailable database as a partial failure, counted by the next alarm).
 */
export const oltpSinkErrorsAlarm = new aws.cloudwatch.MetricAlarm('OltpSinkErrors', {
  ...notify,
  alarmDescription: 'The OLTP sink failed invocations (see its logs).',
  namespace: 'AWS/Lambda',
  metricName: 'Errors',
  dimensions: { FunctionName: oltpSinkName },
  statistic: 'Sum',
  period: 300,
  evaluationPeriods: 1,
  threshold: 0,
  comparisonOperator: 'GreaterThanThreshold',
});

/** Batches the sink stopped because the database was unavailable (EMF metric of lib/observability.ts recordOltpBatch). */
export const oltpBatchesFailedAlarm = new aws.cloudwatch.MetricAlarm('OltpBatchesFailed', {
  ...notify,
  alarmDescription: 'The OLTP sink could not apply batches: the database was unavailable (they are retried until it is back).',
  namespace: PIPELINE_NAMESPACE,
  metricName: 'OltpBatchesFailed',
  dimensions: { service: PIPELINE_SERVICE },
  statistic: 'Sum',
  period: 300,
  evaluationPeriods: 1,
  threshold: 0,
  comparisonOperator: 'GreaterThanThreshold',
});

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
    metric: { namespace: PIPELINE_NAMESPACE, metricName: name, dimensions: { service: PIPELINE_SERVICE, type }, stat: 'Sum', period: 300 },
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
  notifications: [{ name: 'OnFailureBatches', topic: alarmsTopic, events: ['s3:ObjectCreated:*'], filterPrefix: 'aws/lambda/' }],
});
