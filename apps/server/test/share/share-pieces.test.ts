import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { RangeNotSatisfiableError } from '../../src/share/errors.ts'
import { contentDisposition, contentTypeOf, numberedName, pathInside, uploadName } from '../../src/share/file-names.ts'
import { parseRange } from '../../src/share/http-range.ts'
import { zipStream } from '../../src/share/zip-writer.ts'
import type { ZipEntry } from '../../src/share/zip-writer.ts'
import { readZip } from './zip-reader.ts'

async function collect (source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const part of source) parts.push(part)
  return Buffer.concat(parts)
}

const entry = (name: string, data: Buffer): ZipEntry => ({
  name, mtimeMs: Date.parse('2030-05-06T07:08:10Z'), size: data.byteLength,
  // Several chunks, as the store yields them.
  async * data () { for (let i = 0; i < data.byteLength; i += 1000) yield data.subarray(i, i + 1000) }
})

describe('range requests', () => {
  it('reads one range: closed, open-ended, suffix, clipped at the end', () => {
    expect(parseRange(undefined, 100)).toBeUndefined()
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 10 })
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 100 })
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 100 })
    expect(parseRange('bytes=-1000', 100)).toEqual({ start: 0, end: 100 })
    expect(parseRange('bytes=50-1000', 100)).toEqual({ start: 50, end: 100 })
  })

  it('refuses what it cannot satisfy, naming the size', () => {
    for (const bad of ['bytes=100-', 'bytes=5-2', 'bytes=-0', 'bytes=0-1,5-6', 'items=0-1', 'bytes=-', 'bytes=a-b', 'bytes=99999999999999999-']) {
      expect(() => parseRange(bad, 100), bad).toThrow(RangeNotSatisfiableError)
    }
    expect(() => parseRange('bytes=0-', 0)).toThrow(/0 bytes/)
  })
})

describe('file names', () => {
  it('types files by extension, octet-stream when unknown', () => {
    expect(contentTypeOf('Report.PDF')).toBe('application/pdf')
    expect(contentTypeOf('movie.mp4')).toBe('video/mp4')
    expect(contentTypeOf('noext')).toBe('application/octet-stream')
    expect(contentTypeOf('.bashrc')).toBe('application/octet-stream')
    expect(contentTypeOf('x.unknown')).toBe('application/octet-stream')
  })

  it('names downloads exactly, with an ASCII fallback that cannot break the header', () => {
    expect(contentDisposition('plain.txt')).toBe('attachment; filename="plain.txt"; filename*=UTF-8\'\'plain.txt')
    expect(contentDisposition('Résumé "final" (v2).pdf')).toBe('attachment; filename="Resume _final_ (v2).pdf"; filename*=UTF-8\'\'R%C3%A9sum%C3%A9%20%22final%22%20%28v2%29.pdf')
    expect(contentDisposition('日本語 100%.txt')).toBe('attachment; filename="___ 100_.txt"; filename*=UTF-8\'\'%E6%97%A5%E6%9C%AC%E8%AA%9E%20100%25.txt')
    expect(contentDisposition('a\\b\r\n.txt')).toMatch(/^attachment; filename="a_b__.txt"; /)
  })

  it('sanitises upload names and numbers clashes', () => {
    expect(uploadName('report.pdf')).toBe('report.pdf')
    expect(uploadName('../../etc/passwd')).toBe('passwd')
    expect(uploadName('C:\\Users\\x\\photo.jpg')).toBe('photo.jpg')
    expect(uploadName('a<b>:c"d|e?f*g\u0000.txt')).toBe('a_b__c_d_e_f_g_.txt')
    expect(uploadName(' .. ')).toBe('upload')
    expect(uploadName('')).toBe('upload')
    expect(uploadName('CON.txt')).toBe('_CON.txt')
    const long = uploadName(`${'é'.repeat(300)}.txt`)
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(200)
    expect(long.endsWith('.txt')).toBe(true)
    expect(numberedName('a.txt', 1)).toBe('a.txt')
    expect(numberedName('a.txt', 2)).toBe('a (2).txt')
    expect(numberedName('archive', 3)).toBe('archive (3)')
  })

  it('keeps folder-link paths inside the shared directory', () => {
    expect(pathInside('', 'a/b.txt')).toBe('a/b.txt')
    expect(pathInside('docs', 'a/b.txt')).toBe('docs/a/b.txt')
    expect(pathInside('docs', '')).toBe('docs')
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'a\\..\\b', 'a\u0000b', 'C:x', 'a//b', './a', 'a/..']) {
      expect(pathInside('docs', bad), bad).toBeUndefined()
    }
  })
})

describe('zip writer', () => {
  const files = [
    entry('hello.txt', Buffer.from('hello world\n')),
    entry('dir/日本語 "quoted".bin', randomBytes(5000)),
    entry('empty', Buffer.alloc(0))
  ]

  for (const zip64 of ['auto', 'always'] as const) {
    it(`writes stored entries with data descriptors and UTF-8 names that read back (${zip64} ZIP64)`, async () => {
      const zip = await collect(zipStream(files, { zip64 }))
      const read = readZip(zip)
      expect(read.map(e => e.name)).toEqual(files.map(f => f.name))
      expect(read.every(e => e.utf8 && e.zip64 === (zip64 === 'always'))).toBe(true)
      for (const [i, f] of files.entries()) expect(read[i]!.data.equals(await collect(f.data()))).toBe(true)
    })
  }

  it.skipIf(!existsSync('/usr/bin/unzip'))('writes archives Info-ZIP unzip tests clean, ZIP64 too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aerie-zip-'))
    try {
      for (const zip64 of ['auto', 'always'] as const) {
        const path = join(dir, `${zip64}.zip`)
        writeFileSync(path, await collect(zipStream(files, { zip64 })))
        expect(execFileSync('unzip', ['-t', path], { encoding: 'utf8' })).toMatch(/No errors detected/)
        execFileSync('unzip', ['-o', '-q', path, '-d', join(dir, zip64)])
        expect(readFileSync(join(dir, zip64, 'hello.txt'), 'utf8')).toBe('hello world\n')
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
