/**
 * A streamed download of text chunks. The first chunk is pulled before answering, so a refusal or an unreadable
 * source is thrown here (and answered as a proper error) rather than breaking the body half way.
 */
export async function streamedResponse(
  source: AsyncIterable<string>,
  headers: Record<string, string>,
): Promise<Response> {
  const chunks = source[Symbol.asyncIterator]();
  const first = await chunks.next();
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (first.done) controller.close();
      else controller.enqueue(enc.encode(first.value));
    },
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(enc.encode(next.value));
    },
    async cancel() {
      await chunks.return?.(undefined);
    },
  });
  return new Response(body, { headers: { 'cache-control': 'no-store', ...headers } });
}
