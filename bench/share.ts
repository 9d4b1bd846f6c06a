import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { writeRandomFile } from './support/folder-trees.ts'
import { BenchError, checkFlags, cpuSeconds, flag, formatBytes, machine, peakRss, percentile, resetPeakRss, scratchDir, UsageError } from './support/measure.ts'
import { startServerAndAgent } from './support/server-agent.ts'
import { untilKept } from './support/server-waits.ts'
import { download, shareLinks, startReferenceServer } from './support/share-http.ts'

/**
 * Share-link benchmark: a real `aerie-server` holding a real agent's folder serves, through
 * share links, one 1 GiB file and then 200 concurrent downloads of a 10 MiB file, each timed
 * against a plain Node `fs.createReadStream` HTTP server serving the agent's copy of the same
 * bytes in the same run (the reference); and the server's peak RSS during the concurrent run.
 * The client is this process (fetch), for both.
 *
 *   npm run bench -- share [--scale 1] [--rounds 1] [--concurrency 200]
 */
export const description = 'a 1 GiB download and 200 concurrent 10 MiB downloads through share links, against an fs.createReadStream server; server peak RSS'

const MiB = 1024 * 1024
const FOLDER_ID = 'share-bench'

interface Timed { s: number, serverCpu?: number }

export async function run (args: string[]): Promise<void> {
  checkFlags(args, ['scale', 'rounds', 'concurrency'])
  const scale = parseNumber(flag(args, 'scale'), 'scale', 1, 0.01, 4)
  const rounds = parseNumber(flag(args, 'rounds'), 'rounds', 1, 1, 10)
  const concurrency = parseNumber(flag(args, 'concurrency'), 'concurrency', 200, 1, 1000)
  const bigSize = Math.max(MiB, Math.round(1024 * scale) * MiB)
  const smallSize = Math.max(64 * 1024, Math.round(10 * MiB * Math.min(1, scale)))
  const scratch = await scratchDir('share')
  const dir = scratch.path
  try {
    const folder = join(dir, 'folder')
    await mkdir(folder)
    await writeRandomFile(join(folder, 'big.bin'), bigSize)
    await writeRandomFile(join(folder, 'small.bin'), smallSize)
    console.log(`share bench  ${new Date().toISOString()}  node ${process.version}  ${machine()}  scale ${scale}: ` +
      `${formatBytes(bigSize)} file, ${concurrency} x ${formatBytes(smallSize)}, page cache warm, ${rounds} round${rounds > 1 ? 's' : ''}, ` +
      `load average ${loadavg()[0]!.toFixed(1)} at the start (a shared machine)`)

    await using setup = await startServerAndAgent(join(dir, 'processes'))
    await setup.stopServer()
    await setup.addFolder(folder, FOLDER_ID)
    const from = setup.server.log.length
    await setup.startServer()
    await untilKept(setup, FOLDER_ID, 2, bigSize + smallSize, from)
    const base = (await setup.server.state()).webUrl
    if (base == null) throw new BenchError('the server did not say where its web console listens')
    const makeLink = await shareLinks(base, setup.server.dataDir)
    const bigLink = `${await makeLink(FOLDER_ID, 'big.bin')}/download`
    const smallLink = `${await makeLink(FOLDER_ID, 'small.bin')}/download`
    await using reference = await startReferenceServer(folder)

    // Once, untimed: the link serves the agent's bytes.
    if (await digestOf(smallLink) !== await digestOfFile(join(folder, 'small.bin'))) throw new BenchError('the share link served other bytes than the agent\'s file')

    const pid = setup.serverPid()
    const timed = async (work: () => Promise<unknown>): Promise<Timed> => {
      const cpu = cpuSeconds(pid)
      const started = performance.now()
      await work()
      const s = (performance.now() - started) / 1000
      const after = cpuSeconds(pid)
      return { s, ...(cpu === undefined || after === undefined ? {} : { serverCpu: after - cpu }) }
    }
    const many = (url: string): Promise<unknown> => Promise.all(Array.from({ length: concurrency }, () => download(url, smallSize)))

    const single: Array<{ link: Timed, ref: Timed }> = []
    const concurrent: Array<{ link: Timed, ref: Timed, rss?: number }> = []
    for (let round = 0; round < rounds; round++) {
      // The reference first, so the file is as warm in the page cache for the link as for it.
      const ref = await timed(() => download(reference.url('big.bin'), bigSize))
      single.push({ ref, link: await timed(() => download(bigLink, bigSize)) })
      const manyRef = await timed(() => many(reference.url('small.bin')))
      const reset = resetPeakRss(pid)
      const manyLink = await timed(() => many(smallLink))
      const rss = reset ? peakRss(pid) : undefined
      concurrent.push({ ref: manyRef, link: manyLink, ...(rss === undefined ? {} : { rss }) })
      console.error(`  round ${round + 1}: ${single.at(-1)!.link.s.toFixed(2)} s (reference ${ref.s.toFixed(2)} s), ` +
        `${concurrency} concurrent ${manyLink.s.toFixed(2)} s (reference ${manyRef.s.toFixed(2)} s)`)
    }

    const median = (values: number[]): number => percentile(values, 50)
    const of = rounds > 1 ? `; median of ${rounds} rounds` : ''
    const line = (what: string, bytes: number, results: Array<{ link: Timed, ref: Timed }>): void => {
      const s = median(results.map(r => r.link.s))
      const refS = median(results.map(r => r.ref.s))
      const cpu = results.every(r => r.link.serverCpu !== undefined) ? `, server CPU ${median(results.map(r => r.link.serverCpu!)).toFixed(2)} s` : ''
      console.log(`${what.padEnd(22)}${s.toFixed(2)} s   ${(bytes / 1e6 / s).toFixed(0)} MB/s   ${median(results.map(r => r.link.s / r.ref.s)).toFixed(2)} x the fs.createReadStream server ` +
        `(${refS.toFixed(2)} s, ${(bytes / 1e6 / refS).toFixed(0)} MB/s)${cpu}${of}`)
    }
    line(`share ${formatBytes(bigSize)}`, bigSize, single)
    line(`share ${concurrency} x ${formatBytes(smallSize)}`, concurrency * smallSize, concurrent)
    const rss = concurrent.map(r => r.rss)
    console.log(`${'share peak RSS'.padEnd(22)}server ${rss.every(r => r !== undefined) ? `${(Math.max(...rss as number[]) / MiB).toFixed(0)} MiB` : 'unknown'} during the ` +
      `${concurrency} concurrent downloads (VmHWM reset before them${rounds > 1 ? ', highest of the rounds' : ''}); each download counted and audited`)
  } finally {
    await scratch.remove()
  }
}

async function digestOf (url: string): Promise<string> {
  const response = await fetch(url)
  const hash = createHash('sha256')
  for await (const chunk of response.body!) hash.update(chunk)
  return hash.digest('hex')
}

async function digestOfFile (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

function parseNumber (text: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (text == null) return fallback
  const value = Number(text)
  if (!Number.isFinite(value) || value < min || value > max || (name !== 'scale' && !Number.isInteger(value))) {
    throw new UsageError(`--${name}: "${text}" is not a ${name === 'scale' ? 'number' : 'whole number'} from ${min} to ${max}`)
  }
  return value
}
