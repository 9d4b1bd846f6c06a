import { ProtocolError } from '../errors.ts'
import { MAX_VERSIONS_REQUEST, MAX_VERSIONS_RESPONSE, messageChannel, parseVersionsResponse, VERSIONS_PROTOCOL } from '../protocol/index.ts'
import type { VersionsRequest, VersionsResponse } from '../protocol/index.ts'
import type { Connection } from '@libp2p/interface'

/** Asks the team server about the central copy's versions of a path (`/aerie/versions/1.0.0`): one request, one answer. */
export async function askServerVersions (connection: Connection, request: VersionsRequest): Promise<Exclude<VersionsResponse, { type: 'error' }>> {
  const signal = AbortSignal.timeout(60_000)
  const stream = await connection.newStream(VERSIONS_PROTOCOL, { signal })
  const channel = messageChannel(stream, MAX_VERSIONS_RESPONSE, MAX_VERSIONS_REQUEST)
  try {
    await channel.writeJson(request, { signal })
    const answer = parseVersionsResponse(await channel.readJson({ signal }))
    await stream.close().catch(() => {})
    if (answer.type === 'error') throw new ProtocolError(`the team server says: ${answer.message}`)
    return answer
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}
