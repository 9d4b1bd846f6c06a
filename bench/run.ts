import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { tuneHeapForTransfers } from '@aerie/core'
import { BenchError, UsageError } from './support/measure.ts'

// Benchmark processes run as the agent does (see heap-tuning.ts); every transport measured in them gets the same.
tuneHeapForTransfers()

/**
 * Runs one benchmark: `node bench/run.ts <name> [options]` (or `npm run bench -- <name>`)
 * calls `run(options)` of bench/<name>.ts. Without a name it lists them.
 */
interface Benchmark {
  description?: string
  run?(args: string[]): Promise<void>
}

const here = import.meta.dirname
const names = (await readdir(here)).filter(f => f.endsWith('.ts') && f !== 'run.ts').map(f => f.slice(0, -3)).sort()
const [name, ...args] = process.argv.slice(2)

if (name == null || name === '--help' || name === '-h') {
  console.log('usage: npm run bench -- <name> [options]\n\nbenchmarks:')
  for (const each of names) {
    const { description } = await import(pathToFileURL(join(here, `${each}.ts`)).href) as Benchmark
    console.log(`  ${each.padEnd(12)} ${description ?? ''}`)
  }
} else if (!names.includes(name)) {
  console.error(`bench: there is no benchmark "${name}"; available: ${names.join(', ')} (npm run bench lists them)`)
  process.exit(2)
} else {
  const benchmark = await import(pathToFileURL(join(here, `${name}.ts`)).href) as Benchmark
  if (typeof benchmark.run !== 'function') throw new Error(`bench/${name}.ts does not export run(args)`)
  try {
    await benchmark.run(args)
  } catch (err) {
    const usage = err instanceof UsageError
    console.error(`bench ${name}: ${(err as Error).message}`)
    // An unexpected failure needs its stack; a stall or a usage mistake is said in full by its message.
    if (!usage && !(err instanceof BenchError)) console.error((err as Error).stack)
    process.exitCode = usage ? 2 : 1
  }
}
