import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { connect as connectTcp } from 'node:net'
import { setTimeout } from 'node:timers/promises'
import { connect as connectTls } from 'node:tls'
import { createAerieHost, libp2pKeyFromPem, TrustStore } from '@aerie/core'
import { multiaddr } from '@multiformats/multiaddr'
import { benchOrganisation } from './support/devices.ts'
import { abortReason, checkFlags, cpuSeconds, flag, formatBytes, formatMs, machine, parseBytes, peakRss, percentile, resetPeakRss, untilAborted, UsageError, watchdog } from './support/measure.ts'
import { startReceiver } from './support/receiver-process.ts'
import { BENCH_PROTOCOL, TLS_SUITE } from './support/transport-messages.ts'
import type { DeviceCredentials } from './support/devices.ts'
import type { Receiver } from './support/receiver-process.ts'
import type { AerieHost } from '@aerie/core'
import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'

/**
 * Transport benchmark: what an authenticated Aerie connection costs to set up and how
 * fast one stream moves bytes, next to plain TCP and TLS 1.3 (AES-256-GCM) as the
 * references. The sender is this process, the receiver a child process, on 127.0.0.1.
 * All three move the same random chunk (256 KiB, or --message) B/chunk times, and a
 * transfer's time ends when the receiver has counted every byte and said so on the same
 * connection. Chunks of 24 KiB, the size of a backup's average chunk, show what each write
 * costs beyond its bytes.
 *
 *   npm run bench -- transport [--bytes 256MiB] [--message 24KiB] [--rounds 3] [--only tcp,tls,aerie]   (or BENCH_BYTES=256MiB)
 */
export const description = 'connection setup and throughput over 127.0.0.1: TCP, TLS 1.3, an Aerie stream'

const DEFAULT_CHUNK = '256KiB'
const CONNECTIONS = 20
const WARMUP_CONNECTIONS = 2
const STALL_MS = 30_000
const DIAL_TIMEOUT_MS = 10_000
/**
 * libp2p refuses a 6th inbound connection per second from one host (its default
 * inboundConnectionThreshold), so connection starts are spaced; the wait is not timed.
 */
const CONNECTION_SPACING_MS = 250
/** Aerie's stated target: the authenticated stream keeps up with TLS. */
const TARGET = 0.8
const KINDS = ['tcp', 'tls', 'aerie'] as const
type Kind = typeof KINDS[number]

export async function run (args: string[]): Promise<void> {
  checkFlags(args, ['bytes', 'message', 'only', 'rounds'])
  const bytes = parseBytes(flag(args, 'bytes') ?? process.env.BENCH_BYTES ?? '1GiB', flag(args, 'bytes') != null ? '--bytes' : 'BENCH_BYTES')
  const chunkBytes = parseBytes(flag(args, 'message') ?? DEFAULT_CHUNK, '--message')
  if (chunkBytes > 16 * 1024 * 1024) throw new UsageError('--message: at most 16MiB')
  const only = parseKinds(flag(args, 'only'))
  const rounds = parseRounds(flag(args, 'rounds'))
  const label = (what: string): string => `transport ${what}`.padEnd(20)

  console.log(`transport bench  ${new Date().toISOString()}  node ${process.version}  ${machine()}  B = ${formatBytes(bytes)} in ${formatBytes(chunkBytes)} chunks  127.0.0.1, receiver in a child process`)
  const org = await benchOrganisation()
  const chunk = randomBytes(chunkBytes)
  await using receiver = await startReceiver(org.receiver, bytes)
  const host = await senderHost(org.sender)
  try {
    const setup: string[] = []
    for (const kind of only) {
      const samples = await timeConnections(kind, host, receiver)
      setup.push(`${kind} ${formatMs(percentile(samples, 50))} ms (p90 ${formatMs(percentile(samples, 90))})`)
    }
    console.log(`${label('setup')}${setup.join('   ')}   median of ${CONNECTIONS} fresh connections`)

    // Rounds interleave the transports, so that a slow spell of this shared machine hits
    // all of them alike; ratios are taken within a round, then the median is reported.
    const rates = new Map<Kind, number[]>(only.map(k => [k, []]))
    const cpu = new Map<Kind, number[]>(only.map(k => [k, []]))
    const ratios: number[] = []
    let rss: { sender?: number, receiver?: number, phase: string } | undefined
    for (let round = 0; round < rounds; round++) {
      const rate = new Map<Kind, number>()
      for (const kind of only) {
        const resetOk = kind === 'aerie' && resetPeakRss('self') && resetPeakRss(receiver.pid)
        const cpuBefore = [cpuSeconds('self'), cpuSeconds(receiver.pid)]
        const ms = await transfer(kind, host, receiver, bytes, chunk)
        const cpuAfter = [cpuSeconds('self'), cpuSeconds(receiver.pid)]
        rate.set(kind, bytes / 1e6 / (ms / 1000))
        rates.get(kind)!.push(rate.get(kind)!)
        if (cpuAfter.every(c => c != null) && cpuBefore.every(c => c != null)) {
          cpu.get(kind)!.push((cpuAfter[0]! - cpuBefore[0]! + cpuAfter[1]! - cpuBefore[1]!) / (bytes / 1024 ** 3))
        }
        if (kind === 'aerie' && round === 0) rss = { sender: peakRss('self'), receiver: peakRss(receiver.pid), phase: resetOk ? 'during an aerie run' : 'whole run (could not reset)' }
      }
      if (rate.has('aerie') && rate.has('tls')) ratios.push(rate.get('aerie')! / rate.get('tls')!)
    }
    const spread = (values: number[], digits: number): string =>
      values.length < 2 ? '' : ` (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`
    const figures = [...rates].map(([kind, values]) => `${kind} ${percentile(values, 50).toFixed(0)} MB/s${spread(values, 0)}`)
    if (ratios.length > 0) figures.push(`aerie/tls ${percentile(ratios, 50).toFixed(2)}${spread(ratios, 2)}`)
    console.log(`${label(formatBytes(bytes))}${figures.join('   ')}   median of ${rounds} rounds`)
    if (ratios.length > 0) {
      const ratio = percentile(ratios, 50)
      console.log(`${label('target')}aerie >= ${TARGET.toFixed(2)} x tls (median): ${ratio >= TARGET ? 'met' : 'NOT MET'} (${ratio.toFixed(2)})`)
    }
    const cpuFigures = [...cpu].map(([kind, values]) => `${kind} ${values.length === 0 ? 'unknown' : percentile(values, 50).toFixed(2) + ' s'}`)
    console.log(`${label('CPU/GiB')}${cpuFigures.join('   ')}   (sender + receiver, all threads; median)`)
    if (rss != null) {
      console.log(`${label('peak RSS')}sender ${mib(rss.sender)}  receiver ${mib(rss.receiver)}  (${rss.phase})`)
    }
  } finally {
    await host.stop()
  }
}

function parseRounds (text: string | undefined): number {
  if (text == null) return 3
  const rounds = Number(text)
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) throw new UsageError(`--rounds: "${text}" is not a whole number from 1 to 20`)
  return rounds
}

function parseKinds (text: string | undefined): Kind[] {
  if (text == null) return [...KINDS]
  const kinds = text.split(',').map(k => k.trim())
  for (const kind of kinds) {
    if (!(KINDS as readonly string[]).includes(kind)) throw new UsageError(`--only: "${kind}" is not one of ${KINDS.join(', ')}`)
  }
  return KINDS.filter(k => kinds.includes(k))
}

function mib (bytes: number | undefined): string {
  return bytes == null ? 'unknown' : `${(bytes / 1024 ** 2).toFixed(0)} MiB`
}

async function senderHost (credentials: DeviceCredentials): Promise<AerieHost> {
  return await createAerieHost({
    privateKey: libp2pKeyFromPem(credentials.privateKeyPem),
    trust: new TrustStore({ credentials: { certificate: credentials.certPem, ca: credentials.caCertPem }, crl: credentials.crlDer }),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    mdns: false,
    // A refused handshake would otherwise show up only as a reset on the other side.
    log: (line) => { console.error(`sender: ${line}`) }
  })
}

/** Milliseconds to get each of CONNECTIONS fresh connections ready for data, after a short warm-up. */
async function timeConnections (kind: Kind, host: AerieHost, receiver: Receiver): Promise<number[]> {
  const samples: number[] = []
  let previous = -Infinity
  for (let i = 0; i < WARMUP_CONNECTIONS + CONNECTIONS; i++) {
    await setTimeout(Math.max(0, previous + CONNECTION_SPACING_MS - performance.now()))
    const signal = AbortSignal.any([AbortSignal.timeout(DIAL_TIMEOUT_MS), receiver.failed])
    const started = performance.now()
    previous = started
    try {
      if (kind === 'aerie') {
        await host.dial(receiver.aerieAddress, { signal })
        const ms = performance.now() - started
        await closeAll(host)
        if (i >= WARMUP_CONNECTIONS) samples.push(ms)
      } else {
        const socket = await open(kind, receiver, signal)
        const ms = performance.now() - started
        socket.destroy()
        if (i >= WARMUP_CONNECTIONS) samples.push(ms)
      }
    } catch (err) {
      throw abortReason(err, signal, `${kind} connection ${i + 1}`)
    }
  }
  return samples
}

/** A TCP connection, or a TLS 1.3 one that has finished its handshake. */
async function open (kind: 'tcp' | 'tls', receiver: Receiver, signal: AbortSignal): Promise<Socket | TLSSocket> {
  // noDelay as libp2p's TCP transport sets it, so all three use the same socket options.
  const socket = kind === 'tcp'
    ? connectTcp({ host: '127.0.0.1', port: receiver.tcpPort, noDelay: true })
    : connectTls({ host: '127.0.0.1', port: receiver.tlsPort, rejectUnauthorized: false, minVersion: 'TLSv1.3', ciphers: TLS_SUITE })
  socket.setNoDelay(true)
  try {
    await once(socket, kind === 'tcp' ? 'connect' : 'secureConnect', { signal })
  } catch (err) {
    socket.destroy()
    throw err
  }
  return socket
}

/** Sends `bytes` and returns the milliseconds until the receiver confirmed it holds them all. */
async function transfer (kind: Kind, host: AerieHost, receiver: Receiver, bytes: number, chunk: Uint8Array): Promise<number> {
  const progress = { sent: 0 }
  using dog = watchdog(`${kind} transfer`, {
    progress: () => progress.sent + receiver.received(),
    stallMs: STALL_MS,
    // Generous: even 5 MB/s finishes in time; a slower run is broken, not slow.
    limitMs: 60_000 + bytes / 5e3,
    also: receiver.failed
  })
  try {
    return kind === 'aerie'
      ? await sendOverAerie(host, receiver, bytes, chunk, progress, dog.signal)
      : await sendOverSocket(kind, receiver, bytes, chunk, progress, dog.signal)
  } catch (err) {
    throw abortReason(err, dog.signal, `${kind} transfer`)
  }
}

interface Progress { sent: number }

async function sendOverAerie (host: AerieHost, receiver: Receiver, bytes: number, chunk: Uint8Array, progress: Progress, signal: AbortSignal): Promise<number> {
  const stream = await host.libp2p.dialProtocol(multiaddr(receiver.aerieAddress), BENCH_PROTOCOL, { signal })
  try {
    const confirmed = firstReply(stream)
    confirmed.catch(() => {}) // awaited below; this only keeps it from counting as unhandled meanwhile
    const started = performance.now()
    for (const piece of pieces(chunk, bytes)) {
      progress.sent += piece.byteLength
      if (!stream.send(piece)) await stream.onDrain({ signal })
    }
    await untilAborted(confirmed, signal)
    const ms = performance.now() - started
    await stream.close({ signal })
    return ms
  } catch (err) {
    stream.abort(err as Error)
    throw err
  } finally {
    await closeAll(host)
  }
}

async function sendOverSocket (kind: 'tcp' | 'tls', receiver: Receiver, bytes: number, chunk: Uint8Array, progress: Progress, signal: AbortSignal): Promise<number> {
  const socket = await open(kind, receiver, signal)
  try {
    const suite = 'getCipher' in socket ? socket.getCipher().name : undefined
    if (kind === 'tls' && suite !== TLS_SUITE) throw new Error(`TLS negotiated ${suite}, not ${TLS_SUITE}`)
    const confirmed = once(socket, 'data', { signal })
    confirmed.catch(() => {})
    const started = performance.now()
    for (const piece of pieces(chunk, bytes)) {
      progress.sent += piece.byteLength
      if (!socket.write(piece)) await once(socket, 'drain', { signal })
    }
    await confirmed
    return performance.now() - started
  } finally {
    socket.destroy()
  }
}

/** Closes every connection, each within 5 s or by abort, so that the next dial is a fresh one. */
async function closeAll (host: AerieHost): Promise<void> {
  await Promise.all(host.libp2p.getConnections().map(async connection => {
    await connection.close({ signal: AbortSignal.timeout(5_000) }).catch((err: Error) => { connection.abort(err) })
  }))
}

/** The same chunk again and again, the last one cut to size: exactly `bytes` in all. */
function * pieces (chunk: Uint8Array, bytes: number): Generator<Uint8Array> {
  for (let offset = 0; offset < bytes; offset += chunk.byteLength) {
    yield bytes - offset >= chunk.byteLength ? chunk : chunk.subarray(0, bytes - offset)
  }
}

async function firstReply (stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _reply of stream) return
  throw new Error('the receiver closed the stream without confirming it had every byte')
}
