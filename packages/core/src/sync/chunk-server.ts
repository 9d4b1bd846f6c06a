import { CHUNK_NOT_FOUND, CHUNK_OK, CHUNK_REFUSED, chunkResponse, MAX_CHUNK_REQUEST_MESSAGE, MAX_CHUNK_RESPONSE, messageChannel, parseChunkRequest } from '../protocol/index.ts'
import type { LocalChunks } from './local-chunks.ts'
import type { TokenBucket } from '../util/token-bucket.ts'
import type { Stream } from '@libp2p/interface'

/** Requests read ahead and answered concurrently; the answers still go out in order. */
const READ_AHEAD = 16

export interface ChunkServerInit {
  chunks: LocalChunks
  /** Whether the peer on this stream may read the folder (it is a member). */
  mayRead(folder: string): boolean
  onBytesOut?(bytes: number): void
  /** The upload limit, shared by every chunk stream of this device. */
  upload?: TokenBucket
}

/** Answers one peer's chunk requests on one stream until it closes it. */
export async function serveChunks (stream: Stream, init: ChunkServerInit): Promise<void> {
  const channel = messageChannel(stream, MAX_CHUNK_REQUEST_MESSAGE, MAX_CHUNK_RESPONSE)
  // Answers in request order; the reader stays at most READ_AHEAD ahead of the writer.
  let previous: Promise<void> = Promise.resolve()
  const inFlight = new Set<Promise<void>>()
  try {
    while (true) {
      if (inFlight.size >= READ_AHEAD) await Promise.race(inFlight)
      const input = await channel.readJson()
      if (input === undefined) break
      const request = parseChunkRequest(input)
      const answer = answerFor(request, init)
      const after = previous
      const sent: Promise<void> = (async () => {
        const frame = await answer
        await after
        await init.upload?.take(frame.byteLength)
        await channel.write(frame)
        init.onBytesOut?.(frame.byteLength)
      })()
      previous = sent
      inFlight.add(sent)
      sent.then(() => inFlight.delete(sent), () => inFlight.delete(sent))
    }
    await previous
    await stream.close()
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}

async function answerFor (request: ReturnType<typeof parseChunkRequest>, init: ChunkServerInit): Promise<ReturnType<typeof chunkResponse>> {
  if (!init.mayRead(request.folder)) return chunkResponse(CHUNK_REFUSED)
  const bytes = await init.chunks.read(request.hash, request.size, { folder: request.folder, sent: true })
  return bytes === undefined ? chunkResponse(CHUNK_NOT_FOUND) : chunkResponse(CHUNK_OK, bytes)
}
