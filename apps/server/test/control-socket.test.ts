import { createConnection, createServer } from 'node:net'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AerieError, InvalidInputError } from '@aerie/core'
import { callControl, controlSocketPath, serveControl, ServerNotRunningError } from '../src/control-socket.ts'

// The running server's local control channel over a real Unix socket: a command's progress and
// result reach the caller, failures come back as errors with their codes, and what is not a
// command is refused without stopping the server.

/** Polls `ok` every 10 ms for at most 2 s. */
async function waitUntil (ok: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200 && !await ok(); i++) await new Promise(resolve => setTimeout(resolve, 10))
}

/** Sends raw bytes and returns everything the server wrote back before it ended the connection. */
async function raw (path: string, bytes: string): Promise<string> {
  const socket = createConnection(path)
  let text = ''
  socket.on('data', (d: Buffer) => { text += d.toString() })
  socket.write(bytes)
  await new Promise<void>((resolve, reject) => { socket.once('close', () => { resolve() }); socket.once('error', reject) })
  return text
}

describe('the server\'s control socket', () => {
  let dir: string
  let logged: string[]
  let control: { close(): Promise<void> } | undefined

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aerie-control-'))
    logged = []
    control = await serveControl(dir, {
      count: async (report) => {
        for (let i = 1; i <= 3; i++) report({ done: i, of: 3 })
        return { counted: 3 }
      },
      refuse: async () => { throw new InvalidInputError('not now') },
      crash: async () => { throw new Error('a bug') }
    }, line => logged.push(line))
  })

  afterEach(async () => {
    await control?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('runs a command: its progress, then its result; the socket is the owner\'s alone and goes when the server stops', async () => {
    const heard: unknown[] = []
    expect(await callControl(dir, 'count', p => heard.push(p))).toEqual({ counted: 3 })
    expect(heard).toEqual([{ done: 1, of: 3 }, { done: 2, of: 3 }, { done: 3, of: 3 }])
    expect((await stat(join(dir, 'control.sock'))).mode & 0o777).toBe(0o600)

    await control!.close()
    control = undefined
    await expect(stat(join(dir, 'control.sock'))).rejects.toThrow(/ENOENT/)
    await expect(callControl(dir, 'count')).rejects.toThrow(ServerNotRunningError)
  })

  it('returns a command\'s failure with its code, and refuses what is not a command, serving on afterwards', async () => {
    await expect(callControl(dir, 'refuse')).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT', message: 'not now' })
    await expect(callControl(dir, 'crash')).rejects.toMatchObject({ code: 'ERR_INTERNAL', message: 'a bug' })
    const unknown = callControl(dir, 'toString')
    await expect(unknown).rejects.toBeInstanceOf(AerieError)
    await expect(unknown).rejects.toThrow(/no control command "toString"; there are: count, refuse, crash/)

    const path = join(dir, 'control.sock')
    expect(await raw(path, 'not json\n')).toMatch(/"code":"ERR_INVALID_INPUT".*one JSON line/)
    expect(await raw(path, 'x'.repeat(10_000))).toMatch(/at most 4096 bytes/)
    expect(await callControl(dir, 'count')).toEqual({ counted: 3 })
  })

  it('closes each connection once answered: twenty calls leave no open files behind', async () => {
    const openFiles = async (): Promise<number> => (await readdir('/proc/self/fd')).length
    await callControl(dir, 'count')
    const before = await openFiles()
    for (let i = 0; i < 20; i++) await callControl(dir, i % 2 === 0 ? 'count' : 'refuse').catch(() => {})
    await waitUntil(async () => await openFiles() <= before)
    expect(await openFiles()).toBeLessThanOrEqual(before)
  })

  it('refuses what answers on the socket without speaking the protocol', async () => {
    const other = await mkdtemp(join(tmpdir(), 'aerie-control-other-'))
    const impostor = createServer(socket => { socket.end('hello there\n') })
    await new Promise<void>(resolve => { impostor.listen(join(other, 'control.sock'), resolve) })
    try {
      await expect(callControl(other, 'count')).rejects.toMatchObject({ code: 'ERR_PROTOCOL', message: expect.stringMatching(/is not an Aerie team server/) })
    } finally {
      impostor.close()
      await rm(other, { recursive: true, force: true })
    }
  })

  it('says so when the data directory\'s path is too long for a Unix socket, on both ends', async () => {
    const long = join(dir, 'd'.repeat(120))
    expect(controlSocketPath(long)).toMatchObject({ problem: expect.stringMatching(/over the 100 bytes a Unix socket allows: use a shorter --data path/) })
    const quiet = await serveControl(long, {}, line => logged.push(line))
    await quiet.close()
    expect(logged.join('\n')).toMatch(/local control socket not available/)
    await expect(callControl(long, 'count')).rejects.toThrow(/no team server is running.*shorter --data path/)
  })
})
