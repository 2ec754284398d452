/**
 * Writes text that comes in pieces (report/json.ts jsonPieces) to a stream,
 * waiting for it to drain whenever it asks to: a report of tens of megabytes
 * is never held as one string, nor queued whole in the stream's buffer
 * (pipes are asynchronous on macOS and Windows).
 */
import { once } from 'node:events';

export async function writePieces(stream: NodeJS.WritableStream, pieces: Iterable<string>): Promise<void> {
  for (const piece of pieces) {
    if (!stream.write(piece)) await once(stream, 'drain');
  }
}
