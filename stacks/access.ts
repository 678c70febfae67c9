/**
 * Least privilege: every Tributary function is given exactly the AWS actions its code calls, one grant per line with
 * the reason, in its own `permissions` (next to the function in its stack). To let a function make one more call, add
 * one grant there: its actions, the narrowest resources (object grants name the key prefixes the code writes or reads),
 * and why.
 *
 * Nothing is linked: SST's links grant `s3:*` on a linked bucket and `kinesis:*` on a linked stream, and no code here
 * reads SST's `Resource` (names reach the functions as TRIBUTARY_* variables, stacks/lambda.ts). The Kinesis
 * consumers are ordinary functions subscribed by ARN, so SST's subscriber adds nothing either (it would add
 * `kinesis:ListStreams` and `kinesis:SubscribeToShard`, which authorize nothing on a stream ARN). SST still attaches the
 * AWS-managed AWSLambdaBasicExecutionRole (logs) to every function and AWSLambdaVPCAccessExecutionRole (network
 * interfaces) to those in the VPC.
 *
 * No KMS grant anywhere: the stream is encrypted with the AWS-managed key `alias/aws/kinesis`, whose key policy lets
 * Kinesis use it for any principal of the account that may use the stream ("the use of the default service key for
 * encryption does not require application of custom IAM permissions", Kinesis developer guide).
 *
 * tests/infra/access.ts holds the same table, written out, and the infra tests assert every role against it and every
 * policy of the app against wildcard actions; the README's "Deploy to AWS" has it for readers.
 */

/** One statement of a function's role. */
export interface Grant {
  /** IAM actions, written out: a wildcard (`*`, `s3:*`, `s3:Get*`) is refused at deploy time. */
  actions: string[];
  resources: $util.Input<string>[];
  /** Why the function needs it: the code that makes the call. */
  why: string;
}

/** A function's `permissions` from its grants (refusing wildcard actions, so no grant can slip one in). */
export function grants(...list: Grant[]): { actions: string[]; resources: $util.Input<string>[] }[] {
  for (const g of list) {
    const wild = g.actions.filter((a) => /[*?]/.test(a) || !/^[a-z0-9-]+:[A-Za-z0-9]+$/.test(a));
    if (wild.length)
      throw new Error(`stacks/access.ts: write out every action (${wild.join(', ')} in the grant "${g.why}")`);
    if (!g.resources.length) throw new Error(`stacks/access.ts: the grant "${g.why}" names no resource`);
  }
  return list.map(({ actions, resources }) => ({ actions, resources }));
}

/** Objects under each of `prefixes` (ending in `/`) of a bucket. */
export function objects(bucket: sst.aws.Bucket, ...prefixes: string[]): $util.Output<string>[] {
  return prefixes.map((p) => {
    if (!p.endsWith('/')) throw new Error(`stacks/access.ts: key prefix ${JSON.stringify(p)} must end in /`);
    return $interpolate`${bucket.arn}/${p}*`;
  });
}

/**
 * What a Lambda event source mapping reads a stream with, using the function's role (Lambda developer guide, "Process
 * Amazon Kinesis Data Streams records with Lambda"): the shard list and stream description, shard iterators and
 * records. `kinesis:SubscribeToShard` is for enhanced fan-out consumers only, which Tributary does not register.
 */
export function eventSourceRead(stream: sst.aws.KinesisStream): Grant {
  return {
    actions: [
      'kinesis:DescribeStream',
      'kinesis:DescribeStreamSummary',
      'kinesis:GetRecords',
      'kinesis:GetShardIterator',
      'kinesis:ListShards',
    ],
    resources: [stream.arn],
    why: 'its event source mapping polls the stream with this role',
  };
}

/**
 * An S3 on-failure destination of an event source mapping (the quarantine bucket): Lambda writes each batch it gives up
 * on under `aws/lambda/<mapping>/<shard>/…` with the function's role, and needs `s3:ListBucket` on the bucket too
 * (Lambda developer guide, "Retain discarded batch records").
 */
export function onFailureDestination(bucket: sst.aws.Bucket): Grant[] {
  return [
    {
      actions: ['s3:PutObject'],
      resources: objects(bucket, 'aws/lambda/'),
      why: 'Lambda writes the batches it gives up on to the on-failure destination with this role',
    },
    { actions: ['s3:ListBucket'], resources: [bucket.arn], why: 'Lambda requires it of an S3 on-failure destination' },
  ];
}
