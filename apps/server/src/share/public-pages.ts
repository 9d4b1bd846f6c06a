import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { AerieError, shareState } from '@aerie/core'
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { AuthenticationError, ForbiddenError, LoginLockedError, NotFoundError } from '../accounts/errors.ts'
import { verifyPassword } from '../accounts/password.ts'
import type { AuditLog } from '../audit/audit-log.ts'
import type { ShareLinkRecord } from '../metadata/stores.ts'
import type { FolderEntry, TeamServerApi } from '../team-server-api.ts'
import { RangeNotSatisfiableError, ShareGoneError } from './errors.ts'
import { receiveDrop } from './file-drop.ts'
import { contentDisposition, contentTypeOf, DOWNLOAD_CSP, pathInside } from './file-names.ts'
import { parseRange } from './http-range.ts'
import { bytes, html, messagePage, page, passwordPage, status, time } from './share-html.ts'
import type { Html } from './share-html.ts'
import type { ShareLinks } from './share-links.ts'
import { shareListing } from './share-listing.ts'
import type { ShareListing } from './share-listing.ts'
import type { ShareUnlock } from './share-unlock.ts'
import { zipStream } from './zip-writer.ts'

export interface SharePagesComponents {
  api: TeamServerApi
  shares: ShareLinks
  unlock: ShareUnlock
  audit: AuditLog
  now: () => Date
  log: (line: string) => void
}

// Each error's status on the public pages (docs/errors.md lists the codes).
const STATUS: Record<string, number> = {
  ERR_INVALID_INPUT: 400,
  ERR_UNAUTHENTICATED: 401,
  ERR_FORBIDDEN: 403,
  ERR_NOT_FOUND: 404,
  ERR_SHARE_GONE: 410,
  ERR_TOO_LARGE: 413,
  ERR_RANGE_NOT_SATISFIABLE: 416,
  ERR_RATE_LIMITED: 429
}
const GONE_TITLES: Record<ShareGoneError['reason'], string> = {
  expired: 'This link has expired',
  revoked: 'This link was withdrawn',
  exhausted: 'This link has been used up',
  changed: 'This version is no longer kept'
}
// One chunk queued beside the socket's: the store already reads a few ahead, and 200 downloads at once must not hold 16 chunks each.
const STREAM = { highWaterMark: 1 }

type TokenRequest = FastifyRequest<{ Params: { token: string, '*'?: string } }>

/**
 * The public share-link pages under /s/<token> (no sign-in): a file's page and download, a
 * folder's listing, its files and a zip of any directory, the password form, and file drops.
 * Ranges, names and types: http-range.ts, file-names.ts; the zip: zip-writer.ts; uploads: file-drop.ts.
 */
export function sharePages (c: SharePagesComponents): FastifyPluginAsync {
  const { api, shares, unlock, audit, now } = c

  /** The link a token opens, if it is active and (for a password) unlocked; throws otherwise. */
  const open = (request: TokenRequest, options: { unlocked: boolean } = { unlocked: true }): { link: ShareLinkRecord, base: string } => {
    const link = shares.find(request.params.token)
    if (link === undefined || !api.folders().some(f => f.id === link.folder)) throw new NotFoundError('there is no such link; check that it was copied whole')
    const state = shareState(link, now())
    if (state !== 'active') throw new ShareGoneError(state, goneMessage(state))
    const base = `/s/${request.params.token}`
    if (options.unlocked && link.passwordHash !== undefined && !unlock.isUnlocked(request, link, now())) {
      throw new AuthenticationError('this link needs its password')
    }
    return { link, base }
  }

  /** A folder path inside the link, from the URL's `*`; 404 for anything that would leave it. */
  const inside = (link: ShareLinkRecord, request: TokenRequest): string => {
    const path = pathInside(link.path, request.params['*'] ?? '')
    if (path === undefined) throw new NotFoundError('there is no such file in this link')
    return path
  }

  const downloadable = (link: ShareLinkRecord): ShareListing => {
    if (link.uploadOnly) throw new ForbiddenError('this link only takes uploads; it shows and serves nothing')
    return shareListing(api, link)
  }

  const counted = (request: FastifyRequest, link: ShareLinkRecord, path: string, detail: Record<string, string | number | boolean>): void => {
    if (!shares.countDownload(link.id)) throw new ShareGoneError('exhausted', goneMessage('exhausted'))
    audit.record({ actor: 'anonymous', action: 'share.accessed', target: link.id, detail: { folder: link.folder, path, ...detail }, address: request.ip }, now())
  }

  const sendFile = async (request: TokenRequest, reply: FastifyReply, link: ShareLinkRecord, listing: ShareListing, entry: FolderEntry): Promise<FastifyReply> => {
    const size = entry.size
    const lastModified = new Date(entry.mtimeMs).toUTCString()
    const etag = `"${createHash('sha256').update(JSON.stringify([link.folder, entry.path, size, entry.mtimeMs, entry.modifiedBy])).digest('base64url').slice(0, 27)}"`
    // A resume of another version would splice two files: If-Range sends the whole file then.
    const ifRange = request.headers['if-range']
    const range = parseRange(ifRange === undefined || ifRange === etag || ifRange === lastModified ? request.headers.range : undefined, size)
    const start = range?.start ?? 0
    const end = range?.end ?? size
    void reply
      .header('Content-Type', contentTypeOf(entry.name))
      .header('Content-Disposition', contentDisposition(entry.name))
      .header('Accept-Ranges', 'bytes')
      .header('ETag', etag)
      .header('Last-Modified', lastModified)
      .header('Content-Length', String(end - start))
    if (range !== undefined) void reply.code(206).header('Content-Range', `bytes ${start}-${end - 1}/${size}`)
    // An empty stream keeps the Content-Length above (an empty body would set it to 0); HEAD sends no body anyway.
    if (request.method === 'HEAD') return reply.send(Readable.from([]))
    // A download is counted when it starts from the first byte; resuming or seeking is not another.
    if (start === 0) counted(request, link, entry.path, range === undefined ? {} : { range: `${start}-${end - 1}` })
    return reply.send(end === start ? '' : Readable.from(api.readFile(link.folder, entry.path, { start, end }, listing.versionOf(entry)), STREAM))
  }

  const sendZip = async (request: FastifyRequest, reply: FastifyReply, link: ShareLinkRecord, listing: ShareListing, dir: string, label: string): Promise<FastifyReply> => {
    const files = listing.files(dir)
    const name = `${dir === '' ? label : dir.slice(dir.lastIndexOf('/') + 1)}.zip`
    void reply.header('Content-Type', 'application/zip').header('Content-Disposition', contentDisposition(name)).header('Accept-Ranges', 'none')
    if (request.method === 'HEAD') return reply.send()
    counted(request, link, dir, { zip: true, files: files.length })
    const entries = files.map(f => ({
      name: dir === '' ? f.path : f.path.slice(dir.length + 1),
      mtimeMs: f.mtimeMs,
      size: f.size,
      data: () => api.readFile(link.folder, f.path, undefined, listing.versionOf(f))
    }))
    return reply.send(Readable.from(zipStream(entries), STREAM))
  }

  const folderLabel = (link: ShareLinkRecord): string => api.folders().find(f => f.id === link.folder)?.label ?? link.folder
  const nameOf = (link: ShareLinkRecord): string => link.path === '' ? folderLabel(link) : link.path.slice(link.path.lastIndexOf('/') + 1)
  const href = (base: string, kind: 'browse' | 'download', folderPath: string, link: ShareLinkRecord): string => {
    const rel = link.path === '' ? folderPath : folderPath.slice(link.path.length + 1)
    if (rel === '') return kind === 'browse' ? base : `${base}/download`
    return `${base}/${kind}/${rel.split('/').map(encodeURIComponent).join('/')}`
  }

  const terms = (link: ShareLinkRecord): Html => html`<dl class="facts">
      <dt>Available until</dt><dd>${time(link.expiresAt)}</dd>
      ${link.maxDownloads === undefined ? undefined : html`<dt>Downloads left</dt><dd>${link.maxDownloads - link.downloads} of ${link.maxDownloads}</dd>`}
    </dl>`

  const filePage = (link: ShareLinkRecord, base: string): string => {
    const entry = shareListing(api, link).file(link.path)
    if (entry === undefined) throw new ShareGoneError('changed', goneMessage('changed'))
    return page(entry.name, html`<section class="panel" aria-labelledby="title">
      <h1 id="title" class="wrap">${entry.name}</h1>
      <dl class="facts"><dt>Size</dt><dd>${bytes(entry.size)}</dd><dt>Modified</dt><dd>${time(new Date(entry.mtimeMs))}</dd></dl>
      ${terms(link)}
      <div class="actions"><a class="button" id="download" href="${base}/download" download>Download ${entry.name}</a></div>
    </section>`)
  }

  const folderPage = (link: ShareLinkRecord, base: string, dir: string): string => {
    const listing = downloadable(link)
    if (!listing.isDir(dir)) throw new NotFoundError('there is no such directory in this link')
    const label = nameOf(link)
    const entries = listing.list(dir)
    const rel = dir === link.path ? '' : dir.slice(link.path === '' ? 0 : link.path.length + 1)
    const segments = rel === '' ? [] : rel.split('/')
    const crumbs = [{ text: label, path: link.path }, ...segments.map((s, i) => ({ text: s, path: pathInside(link.path, segments.slice(0, i + 1).join('/'))! }))]
    const changed = listing.changed()
    const rows = entries.map(e => html`<tr>
      <th scope="row" class="wrap">${e.type === 'dir'
        ? html`<span class="file-icon" aria-hidden="true">▸ </span><a href="${href(base, 'browse', e.path, link)}">${e.name}/</a><span class="visually-hidden"> (directory)</span>`
        : html`<a href="${href(base, 'download', e.path, link)}" download>${e.name}</a>`}</th>
      <td>${e.type === 'dir' ? '—' : bytes(e.size)}</td>
      <td>${time(new Date(e.mtimeMs))}</td>
    </tr>`)
    return page(label, html`<section class="panel" aria-labelledby="title">
      <h1 id="title" class="wrap">${label}</h1>
      ${terms(link)}
      <nav class="breadcrumb" aria-label="Breadcrumb"><ol>${crumbs.map((cr, i) => html`<li><a href="${href(base, 'browse', cr.path, link)}"${i === crumbs.length - 1 ? html` aria-current="location"` : undefined}>${cr.text}</a></li>`)}</ol></nav>
      ${changed === 0 ? undefined : html`<p>${status('warn', `${changed} ${changed === 1 ? 'file' : 'files'} of this snapshot ${changed === 1 ? 'is' : 'are'} no longer kept in the version history, so not shared.`)}</p>`}
      ${entries.length === 0
        ? html`<p>This directory is empty.</p>`
        : html`<div class="table-wrap"><table id="share-listing"><caption class="visually-hidden">Files in ${rel === '' ? label : rel}</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Size</th><th scope="col">Modified</th></tr></thead><tbody>${rows}</tbody></table></div>`}
      <div class="actions"><a class="button" id="download-zip" href="${href(base, 'download', dir, link)}" download>Download ${rel === '' ? 'everything' : segments.at(-1)!} as .zip</a></div>
    </section>`)
  }

  const dropPage = (link: ShareLinkRecord, base: string): string => {
    const limit = link.maxUploadBytes ?? shares.policy().maxUploadBytes
    return page(`Send files to ${nameOf(link)}`, html`<section class="panel narrow" aria-labelledby="title">
      <h1 id="title">Send files</h1>
      <p>Files you send go to <strong class="wrap">${nameOf(link)}</strong>. You cannot see what is there; a name that is taken gets a number added.</p>
      ${terms(link)}
      <form id="drop-form" data-upload-url="${base}/upload" data-max-bytes="${limit}">
        <div class="field"><label for="drop-files">Files</label>
          <input id="drop-files" name="files" type="file" multiple required aria-describedby="drop-hint">
          <p class="hint" id="drop-hint">Up to ${bytes(limit)} each.</p></div>
        <div class="actions"><button type="submit">Send</button></div>
      </form>
      <ul id="drop-results" aria-live="polite"></ul>
    </section>`, { script: '/share-drop.js' })
  }

  const htmlReply = (reply: FastifyReply, code: number, body: string): FastifyReply => reply.code(code).type('text/html; charset=utf-8').send(body)

  return async app => {
    // Uploads arrive as raw bytes (streamed, never parsed); the password form as a small urlencoded body.
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 8192 }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))))
    })
    app.addContentTypeParser('*', (_request, payload, done) => { done(null, payload) })

    app.addHook('onSend', async (_request, reply, payload) => {
      void reply.header('Cache-Control', 'no-store').header('X-Robots-Tag', 'noindex, nofollow')
      if (reply.getHeader('Content-Disposition') !== undefined) void reply.header('Content-Security-Policy', DOWNLOAD_CSP)
      return payload
    })

    app.setErrorHandler((err: FastifyError | AerieError | Error, request: TokenRequest, reply) => {
      const code = err instanceof AerieError ? err.code : undefined
      const status = code !== undefined ? STATUS[code] ?? 400 : 'statusCode' in err && typeof err.statusCode === 'number' && err.statusCode < 500 ? err.statusCode : 500
      if (status === 500) c.log(`share: ${request.method} ${request.url.replace(/\/s\/[^/]+/, '/s/…')} failed: ${err.stack ?? err.message}`)
      const message = status === 500 ? 'the server met an unexpected error; it has been logged. Try again later.' : err.message
      if (err instanceof LoginLockedError) void reply.header('Retry-After', String(Math.ceil(err.retryAfterMs / 1000)))
      if (err instanceof RangeNotSatisfiableError) void reply.header('Content-Range', `bytes */${err.size}`)
      if (status === 413) void reply.header('Connection', 'close')
      void reply.removeHeader('Content-Disposition')
      if (request.url.endsWith('/upload') || request.headers.accept?.includes('application/json') === true) {
        return reply.code(status).type('application/json').send({ error: { code: code ?? (status === 500 ? 'ERR_INTERNAL' : 'ERR_INVALID_INPUT'), message } })
      }
      if (err instanceof AuthenticationError && request.params.token !== undefined) {
        const link = shares.find(request.params.token)
        if (link !== undefined) return htmlReply(reply, 401, passwordPage(nameOf(link), `/s/${request.params.token}/unlock`))
      }
      if (err instanceof ShareGoneError) return htmlReply(reply, 410, messagePage(GONE_TITLES[err.reason], 'bad', err.message, 'Ask the person who shared it for a new link.'))
      const titles: Record<number, string> = { 403: 'Not available', 404: 'Link not found', 413: 'Too large', 416: 'Range not available', 429: 'Too many attempts' }
      return htmlReply(reply, status, messagePage(titles[status] ?? (status === 500 ? 'Something went wrong' : 'This request cannot be served'), 'bad', message))
    })

    app.setNotFoundHandler((_request, reply) => htmlReply(reply, 404, messagePage('Link not found', 'bad', 'there is no such link; check that it was copied whole')))

    const params = { type: 'object', properties: { token: { type: 'string', maxLength: 64 } }, required: ['token'] }
    const wildParams = { type: 'object', properties: { token: { type: 'string', maxLength: 64 }, '*': { type: 'string', maxLength: 4096 } }, required: ['token'] }
    const hide = { hide: true }

    app.get<{ Params: { token: string } }>('/:token', { config: { access: 'public' }, schema: { ...hide, params } }, async (request, reply) => {
      const { link, base } = open(request, { unlocked: false })
      if (link.passwordHash !== undefined && !unlock.isUnlocked(request, link, now())) return htmlReply(reply, 200, passwordPage(nameOf(link), `${base}/unlock`))
      if (link.uploadOnly) return htmlReply(reply, 200, dropPage(link, base))
      return htmlReply(reply, 200, link.kind === 'file' ? filePage(link, base) : folderPage(link, base, link.path))
    })

    app.get<{ Params: { token: string, '*': string } }>('/:token/browse/*', { config: { access: 'public' }, schema: { ...hide, params: wildParams } }, async (request, reply) => {
      const { link, base } = open(request)
      if (link.kind === 'file') throw new NotFoundError('this link shares one file; there is nothing to browse')
      return htmlReply(reply, 200, folderPage(link, base, inside(link, request)))
    })

    const download = async (request: TokenRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const { link } = open(request)
      const listing = downloadable(link)
      if (link.kind === 'file') {
        if ((request.params['*'] ?? '') !== '') throw new NotFoundError('this link shares one file; there is nothing inside it')
        const entry = listing.file(link.path)
        if (entry === undefined) throw new ShareGoneError('changed', goneMessage('changed'))
        return await sendFile(request, reply, link, listing, entry)
      }
      const path = inside(link, request)
      const entry = path === link.path ? undefined : listing.file(path)
      if (entry !== undefined) return await sendFile(request, reply, link, listing, entry)
      if (!listing.isDir(path)) throw new NotFoundError('there is no such file in this link')
      return await sendZip(request, reply, link, listing, path, nameOf(link))
    }
    app.get<{ Params: { token: string } }>('/:token/download', { config: { access: 'public' }, schema: { ...hide, params } }, download)
    app.get<{ Params: { token: string, '*': string } }>('/:token/download/*', { config: { access: 'public' }, schema: { ...hide, params: wildParams } }, download)

    app.post<{ Params: { token: string }, Body: { password?: string } }>('/:token/unlock', { config: { access: 'public' }, schema: { ...hide, params } }, async (request, reply) => {
      const { link, base } = open(request, { unlocked: false })
      if (link.passwordHash === undefined) return reply.redirect(base, 303)
      const attempt = { account: link.id, address: request.ip }
      unlock.throttle.check(attempt, now())
      const password = typeof request.body?.password === 'string' ? request.body.password : ''
      if (!await verifyPassword(password, link.passwordHash)) {
        const locked = unlock.throttle.failure(attempt, now())
        audit.record({ actor: 'anonymous', action: 'share.password_failed', target: link.id, detail: { folder: link.folder, path: link.path, ...(locked.length === 0 ? {} : { locked: locked.join(',') }) }, address: request.ip }, now())
        return htmlReply(reply, 401, passwordPage(nameOf(link), `${base}/unlock`, 'That password is not right. Check it with the person who shared the link, and try again.'))
      }
      unlock.throttle.success(attempt)
      unlock.setUnlocked(reply, link, base, now())
      return reply.redirect(base, 303)
    })

    app.post<{ Params: { token: string } }>('/:token/upload', { config: { access: 'public' }, schema: { ...hide, params } }, async (request, reply) => {
      const { link } = open(request)
      if (!link.uploadOnly) throw new ForbiddenError('this link does not take uploads')
      const stored = await receiveDrop({ api, request, link, maxBytes: link.maxUploadBytes ?? shares.policy().maxUploadBytes })
      audit.record({ actor: 'anonymous', action: 'share.uploaded', target: link.id, detail: { folder: link.folder, path: stored.path, size: stored.size }, address: request.ip }, now())
      return reply.code(201).send({ name: stored.name, size: stored.size })
    })
  }
}

function goneMessage (state: 'expired' | 'revoked' | 'exhausted' | 'changed'): string {
  switch (state) {
    case 'expired': return 'this link has expired'
    case 'revoked': return 'this link was withdrawn by the person who shared it'
    case 'exhausted': return 'this link has been downloaded as often as it allows'
    case 'changed': return 'the file changed after this link was made, and the version it shares is no longer kept'
  }
}
