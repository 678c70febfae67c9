import { CreateStreamCommand, DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';

/** Creates the stream with `shards` shards unless it exists, and waits until it is ACTIVE. */
export async function ensureStream(
  kinesis: KinesisClient,
  name: string,
  shards: number,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  try {
    await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
  } catch (err) {
    if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
    await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  }
  for (;;) {
    const res = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    const status = res.StreamDescriptionSummary?.StreamStatus;
    if (status === 'ACTIVE' || status === 'UPDATING') return;
    if (Date.now() > deadline) throw new Error(`Stream ${name} is still ${status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Creates each bucket unless it exists. */
export async function ensureBuckets(s3: S3Client, names: string[]): Promise<void> {
  for (const Bucket of names) {
    try {
      await s3.send(new HeadBucketCommand({ Bucket }));
    } catch {
      await s3.send(new CreateBucketCommand({ Bucket }));
    }
  }
}
