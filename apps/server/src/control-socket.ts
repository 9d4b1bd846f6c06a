import { createConnection, createServer } from 'node:net'
import { chmod, rm } from 'node:fs/promises'
import { AerieError, InvalidInputError } from '@aerie/core'
import type { Server, Socket } from 'node:net'

/**
 * The running server's local control channel: a Unix socket in the data directory (a named
 * pipe on Windows), for `aerie-server` commands that need the running server (a scrub now, with
 * its progress). Whoever can open it can read the data directory anyway (0700, the socket
 * 0600), so it asks for no other credential; nothing reaches it over the network.
 *
 * One request per connection, JSON lines both ways: `{"command": NAME}`; then any number of
 * `{"progress": …}`, and one `{"result": …}` or `{"error": {code, message}}`.
 */
export type ControlCommands = Record<string, (report: (progress: unknown) => void) => Promise<unknown>>

export class ServerNotRunningError extends AerieError {
  constructor (dataDir: string, reason: string) {
    super('ERR_SERVER_NOT_RUNNING', `no team server is running on ${dataDir} (${reason}); start it with \`aerie-server start --data ${dataDir}\``)
  }
}

/** A request line is a command name: far below this. */
const MAX_REQUEST_BYTES = 4096
/** Unix socket paths are limited to about 104 bytes (108 on Linux, with the final NUL). */
const MAX_SOCKET_PATH = 100

/** Where the control socket of the server on `dataDir` is, or why it cannot be there. */
export function controlSocketPath (dataDir: string): { path: string } | { problem: string } {
  if (process.platform === 'win32') return { path: `\\\\.\\pipe\\aerie-server-${Buffer.from(dataDir).toString('base64url').slice(-80)}` }
  const path = `${dataDir.replace(/\/+$/, '')}/control.sock`
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) return { problem: `its control socket's path, ${path}, is over the ${MAX_SOCKET_PATH} bytes a Unix socket allows: use a shorter --data path` }
  return { path }
}

/** Listens for commands; a command's failure goes back to its caller, never stops the server. */
export async function serveControl (dataDir: string, commands: ControlCommands, log: (line: string) => void): Promise<{ close(): Promise<void> }> {
  const where = controlSocketPath(dataDir)
  if ('problem' in where) {
    log(`local control socket not available: ${where.problem}`)
    return { async close () {} }
  }
  const sockets = new Set<Socket>()
  const server: Server = createServer(socket => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    answer(socket, commands).catch(() => { socket.destroy() })
  })
  // A socket file left by a server that was killed; the data directory's lock already keeps a
  // second server off this directory.
  if (process.platform !== 'win32') await rm(where.path, { force: true })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(where.path, () => { server.off('error', reject); resolve() })
  })
  if (process.platform !== 'win32') await chmod(where.path, 0o600)
  return {
    async close () {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
      if (process.platform !== 'win32') await rm(where.path, { force: true })
    }
  }
}

async function answer (socket: Socket, commands: ControlCommands): Promise<void> {
  const send = (message: unknown): void => { if (!socket.destroyed) socket.write(JSON.stringify(message) + '\n') }
  try {
    const line = await firstLine(socket)
    let request: unknown
    try { request = JSON.parse(line) } catch { throw new InvalidInputError('a control request is one JSON line') }
    const name = (request as { command?: unknown } | null)?.command
    const command = typeof name === 'string' && Object.hasOwn(commands, name) ? commands[name] : undefined
    if (command === undefined) throw new InvalidInputError(`no control command ${JSON.stringify(name)}; there are: ${Object.keys(commands).join(', ')}`)
    send({ result: await command(progress => { send({ progress }) }) })
  } catch (err) {
    send({ error: { code: err instanceof AerieError ? err.code : 'ERR_INTERNAL', message: (err as Error).message } })
  }
  // One request per connection. The socket still flows (firstLine read it): what else comes is
  // dropped, and the caller's end closes it.
  socket.end()
  socket.resume()
}

function firstLine (socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    const onData = (data: Buffer): void => {
      text += data.toString('utf8')
      const end = text.indexOf('\n')
      if (end >= 0) { done(); resolve(text.slice(0, end)) } else if (text.length > MAX_REQUEST_BYTES) { done(); reject(new InvalidInputError(`a control request is at most ${MAX_REQUEST_BYTES} bytes`)) }
    }
    const onEnd = (): void => { done(); reject(new InvalidInputError('the control request ended before its line did')) }
    const done = (): void => { socket.off('data', onData); socket.off('end', onEnd) }
    socket.on('data', onData)
    socket.once('end', onEnd)
  })
}

/** Sends `command` to the server running on `dataDir`; its progress to `onProgress`, then its result. */
export async function callControl<T> (dataDir: string, command: string, onProgress?: (progress: unknown) => void): Promise<T> {
  const where = controlSocketPath(dataDir)
  if ('problem' in where) throw new ServerNotRunningError(dataDir, where.problem)
  const socket = createConnection(where.path)
  return await new Promise<T>((resolve, reject) => {
    let text = ''
    let settled = false
    const settle = (fn: () => void): void => { if (!settled) { settled = true; fn() } }
    socket.once('connect', () => { socket.write(JSON.stringify({ command }) + '\n') })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      settle(() => { reject(['ENOENT', 'ECONNREFUSED'].includes(err.code ?? '') ? new ServerNotRunningError(dataDir, `nothing answers on ${where.path}`) : err) })
    })
    socket.on('data', (data: Buffer) => {
      text += data.toString('utf8')
      for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n')) {
        let message: { progress?: unknown, result?: T, error?: { code: string, message: string } }
        try {
          message = JSON.parse(text.slice(0, end)) as typeof message
        } catch {
          settle(() => { reject(new AerieError('ERR_PROTOCOL', `what answers on ${where.path} is not an Aerie team server (it sent a line that is not JSON)`)) })
          socket.destroy()
          return
        }
        text = text.slice(end + 1)
        if (message.error !== undefined) settle(() => { reject(new AerieError(message.error!.code, message.error!.message)) })
        else if ('result' in message) settle(() => { resolve(message.result as T) })
        else onProgress?.(message.progress)
      }
    })
    socket.once('close', () => { settle(() => { reject(new AerieError('ERR_SERVER_GONE', 'the team server closed the control socket before it answered (did it stop?)')) }) })
  })
}
