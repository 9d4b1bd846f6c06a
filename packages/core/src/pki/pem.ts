/** PEM armour for DER documents, strict on the way in so garbage never reaches a parser. */

export function toPem (label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64')
  return `-----BEGIN ${label}-----\n${base64.match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END ${label}-----\n`
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** The first `label` block in `text`, or undefined when there is none or it is not valid base64. */
export function fromPem (text: string, label: string): Uint8Array | undefined {
  const begin = `-----BEGIN ${label}-----`
  const end = `-----END ${label}-----`
  const start = text.indexOf(begin)
  if (start < 0) return undefined
  const stop = text.indexOf(end, start + begin.length)
  if (stop < 0) return undefined
  const body = text.slice(start + begin.length, stop).replace(/[ \t\r\n]/g, '')
  if (body.length === 0 || !BASE64.test(body)) return undefined
  return new Uint8Array(Buffer.from(body, 'base64'))
}
