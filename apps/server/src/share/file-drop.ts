import { InvalidInputError } from '@aerie/core'
import type { FastifyRequest } from 'fastify'
import type { ShareLinkRecord } from '../metadata/stores.ts'
import type { FolderEntry, TeamServerApi } from '../team-server-api.ts'
import { TooLargeError } from './errors.ts'
import { numberedName, pathInside, uploadName } from './file-names.ts'

// Names being written right now, by folder/path: two uploads of one name never pick the same path.
const pending = new Set<string>()
const MAX_NUMBER = 10_000

/**
 * One upload to a file drop: the raw request body, its name (percent-encoded UTF-8) in the
 * X-File-Name header, sanitised and numbered (`name (2).ext`) so nothing is overwritten. The
 * size limit is enforced while the bytes stream; the store records a version only when the
 * body is complete, so a refused or broken upload leaves nothing behind. The header also keeps
 * other sites out: a cross-site request cannot send it without CORS, which this server never grants.
 */
export async function receiveDrop (c: { api: Pick<TeamServerApi, 'fileInfo' | 'writeFile'>, request: FastifyRequest, link: ShareLinkRecord, maxBytes: number }): Promise<FolderEntry> {
  const { api, request, link, maxBytes } = c
  const header = request.headers['x-file-name']
  if (typeof header !== 'string' || header === '') throw new InvalidInputError('send the file\'s name in the X-File-Name header, percent-encoded (encodeURIComponent)')
  let requested: string
  try {
    requested = decodeURIComponent(header)
  } catch {
    throw new InvalidInputError('the X-File-Name header is not percent-encoded UTF-8; encode it with encodeURIComponent')
  }
  const tooLarge = (): TooLargeError => new TooLargeError(`the file is larger than this link takes (${maxBytes} bytes); ask the person who shared it for a higher limit`)
  const declared = Number(request.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge()
  const body = request.body
  if (body === null || typeof body !== 'object' || !(Symbol.asyncIterator in body)) throw new InvalidInputError('send the file as the raw request body (Content-Type: application/octet-stream)')

  const name = uploadName(requested)
  let path: string | undefined
  for (let n = 1; n <= MAX_NUMBER && path === undefined; n++) {
    const candidate = pathInside(link.path, numberedName(name, n))
    if (candidate === undefined) throw new InvalidInputError(`"${name}" cannot be a file name here; rename the file and send it again`)
    const taken = api.fileInfo(link.folder, candidate)
    if (!pending.has(`${link.folder}/${candidate}`) && (taken === undefined || taken.deleted)) path = candidate
  }
  if (path === undefined) throw new InvalidInputError(`too many files are named "${name}" already; rename the file and send it again`)
  const key = `${link.folder}/${path}`
  pending.add(key)
  try {
    return await api.writeFile(link.folder, path, limited(body as AsyncIterable<Uint8Array>, maxBytes, tooLarge), { by: `share link ${link.id}` })
  } finally {
    pending.delete(key)
  }
}

async function * limited (source: AsyncIterable<Uint8Array>, maxBytes: number, tooLarge: () => Error): AsyncGenerator<Uint8Array> {
  let total = 0
  for await (const chunk of source) {
    total += chunk.byteLength
    if (total > maxBytes) throw tooLarge()
    yield chunk
  }
}
