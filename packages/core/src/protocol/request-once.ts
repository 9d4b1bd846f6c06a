import { messageChannel } from './message-channel.ts'
import type { Connection, Stream } from '@libp2p/interface'

/**
 * The shape of Aerie's small request/response protocols (versions, share links): one JSON
 * request per stream, one JSON answer, each within its size limit.
 */
export interface OnceLimits { maxRequest: number, maxResponse: number, timeoutMs?: number }

/** Asks once: writes the request, reads and parses the answer, closes the stream. */
export async function requestOnce<T> (connection: Connection, protocol: string, request: unknown, limits: OnceLimits, parse: (input: unknown) => T): Promise<T> {
  const signal = AbortSignal.timeout(limits.timeoutMs ?? 60_000)
  const stream = await connection.newStream(protocol, { signal })
  const channel = messageChannel(stream, limits.maxResponse, limits.maxRequest)
  try {
    await channel.writeJson(request, { signal })
    const answer = parse(await channel.readJson({ signal }))
    await stream.close().catch(() => {})
    return answer
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}

/** Answers once: reads and parses the request, writes what `answer` returns (or its error as `{ type: 'error' }`). */
export async function answerOnce<Q> (stream: Stream, limits: OnceLimits, parse: (input: unknown) => Q, answer: (request: Q) => Promise<unknown>): Promise<void> {
  const channel = messageChannel(stream, limits.maxRequest, limits.maxResponse)
  let reply: unknown
  try {
    reply = await answer(parse(await channel.readJson({ signal: AbortSignal.timeout(limits.timeoutMs ?? 30_000) })))
  } catch (err) {
    reply = { type: 'error', code: (err as { code?: string }).code ?? 'ERR_INTERNAL', message: (err as Error).message }
  }
  try {
    await channel.writeJson(reply)
    await stream.close()
  } catch (err) {
    stream.abort(err as Error)
  }
}
