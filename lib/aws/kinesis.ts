import { ListShardsCommand, type KinesisClient, type Shard } from '@aws-sdk/client-kinesis';

/**
 * Every shard of a stream, open and closed, all pages. The SDK has no paginator for ListShards: a page after the first
 * must name the stream only through its NextToken (ListShards refuses StreamName with NextToken), which a generated
 * paginator, repeating the first input, cannot do.
 */
export async function listAllShards(kinesis: KinesisClient, streamName: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let token: string | undefined;
  do {
    const res = await kinesis.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: streamName }));
    shards.push(...(res.Shards ?? []));
    token = res.NextToken;
  } while (token);
  return shards;
}
