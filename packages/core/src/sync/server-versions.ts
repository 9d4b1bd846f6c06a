import { ProtocolError } from '../errors.ts'
import { MAX_VERSIONS_REQUEST, MAX_VERSIONS_RESPONSE, parseVersionsResponse, requestOnce, VERSIONS_PROTOCOL } from '../protocol/index.ts'
import type { VersionsRequest, VersionsResponse } from '../protocol/index.ts'
import type { Connection } from '@libp2p/interface'

/** Asks the team server about the central copy's versions of a path (`/aerie/versions/1.0.0`): one request, one answer. */
export async function askServerVersions (connection: Connection, request: VersionsRequest): Promise<Exclude<VersionsResponse, { type: 'error' }>> {
  const answer = await requestOnce(connection, VERSIONS_PROTOCOL, request, { maxRequest: MAX_VERSIONS_REQUEST, maxResponse: MAX_VERSIONS_RESPONSE }, parseVersionsResponse)
  if (answer.type === 'error') throw new ProtocolError(`the team server says: ${answer.message}`)
  return answer
}
