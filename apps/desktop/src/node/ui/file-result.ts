import { createReadStream } from 'node:fs'
import { extname } from 'node:path'
import type { ServerResponse } from 'node:http'

/**
 * A UI route's answer that is a file of a synced folder, shown in the browser (a conflict's two
 * versions side by side, say). It is served sandboxed: whatever the file holds (HTML, SVG) runs
 * no script and reaches nothing of the UI's origin. Types the browser cannot show are downloads.
 */
export class FileResult {
  readonly path: string
  readonly name: string

  constructor (path: string, name: string) {
    this.path = path
    this.name = name
  }

  send (res: ServerResponse, headers: Record<string, string>): void {
    const type = SHOWN[extname(this.name).toLowerCase()]
    const stream = createReadStream(this.path)
    stream.once('error', () => { if (!res.headersSent) res.writeHead(404); res.end() })
    stream.once('open', () => {
      res.writeHead(200, {
        ...headers,
        'content-type': type ?? 'application/octet-stream',
        'content-disposition': `${type === undefined ? 'attachment' : 'inline'}; filename*=UTF-8''${encodeURIComponent(this.name)}`,
        'content-security-policy': "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
      })
      stream.pipe(res)
    })
  }
}

/** What a browser shows safely inline (in the sandbox above); everything else downloads. */
const SHOWN: Record<string, string> = {
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.csv': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.json': 'text/plain; charset=utf-8',
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.mp4': 'video/mp4',
  '.mp3': 'audio/mpeg'
}
