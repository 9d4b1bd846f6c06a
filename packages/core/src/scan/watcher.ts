import { isAbsolute, relative, sep } from 'node:path'
import { watch } from 'chokidar'

/**
 * Watches a folder for changes (chokidar) and reports them in batches: events within
 * `debounceMs` of each other become one deduplicated list of paths, reported at most
 * `maxDelayMs` after the first of them even while events keep coming. The watcher only says
 * where to look; the scanner decides what changed, so nothing here reads a file.
 */
export interface WatchFolderOptions {
  root: string
  /** Paths (relative, '/'-separated, NFC) not to watch; an ignored directory is not descended into. */
  ignore: (path: string, isDir: boolean) => boolean
  /** Quiet time after an event before its batch is reported. Default 50 ms. */
  debounceMs?: number
  /** The longest a batch waits under a constant stream of events. Default 1 s. */
  maxDelayMs?: number
  /** Relative, '/'-separated, NFC paths that changed, each once; '' is the folder root itself. */
  onChanges (paths: string[]): void
  /** Something could not be watched (such as the system's limit of watches); the rest still is. */
  onError? (error: Error): void
}

export interface FolderWatcher extends AsyncDisposable {
  /** Resolves once changes are seen (the watcher's first pass over the folder is done), or on close. */
  readonly ready: Promise<void>
  close (): Promise<void>
}

export function watchFolder (options: WatchFolderOptions): FolderWatcher {
  const { root, debounceMs = 50, maxDelayMs = 1_000 } = options
  let batch = new Set<string>()
  let batchStart = 0
  let timer: NodeJS.Timeout | undefined
  let closing: Promise<void> | undefined

  const rootPrefix = root.endsWith(sep) ? root : root + sep
  const relativeOf = (path: string): string | undefined => {
    // Asked for every event chokidar sees (the ignore test too): a prefix is cheaper than relative().
    const rel = path.startsWith(rootPrefix) ? path.slice(rootPrefix.length) : path === root ? '' : relative(root, path)
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined
    return (sep === '/' ? rel : rel.split(sep).join('/')).normalize('NFC')
  }
  const report = (err: unknown): void => {
    if (closing == null) options.onError?.(explained(err))
  }
  const flush = (): void => {
    timer = undefined
    const paths = [...batch]
    batch = new Set()
    if (closing != null || paths.length === 0) return
    try {
      options.onChanges(paths)
    } catch (err) {
      report(err)
    }
  }
  const note = (path: string): void => {
    const rel = relativeOf(path)
    if (rel === undefined || closing != null) return
    const now = performance.now()
    if (batch.size === 0) batchStart = now
    batch.add(rel)
    clearTimeout(timer)
    timer = setTimeout(flush, Math.max(0, Math.min(debounceMs, batchStart + maxDelayMs - now)))
  }
  const ignored = (path: string, isDir?: boolean): boolean => {
    const rel = relativeOf(path)
    if (rel === undefined || rel === '') return false
    try {
      // Asked first without the type: ignore only what is ignored either way.
      return isDir === undefined ? options.ignore(rel, false) && options.ignore(rel, true) : options.ignore(rel, isDir)
    } catch (err) {
      report(err)
      return false
    }
  }

  const watcher = watch(root, {
    ignoreInitial: true,
    followSymlinks: false,
    // The scanner notices a file that changes while it is hashed, and the next event rescans it.
    awaitWriteFinish: false,
    // No unlink + add -> change merging and no hiding of editors' temp files (`~`, `.swp`):
    // those are files the user may sync, and every path reported is rescanned anyway.
    atomic: false,
    // The scanner reports what cannot be read; here it would only repeat that.
    ignorePermissionErrors: true,
    ignored: (path, stats) => ignored(path, stats?.isDirectory())
  })
  watcher.on('all', (_event, path) => { note(path) })
  watcher.on('error', report)
  const ready = Promise.withResolvers<void>()
  watcher.once('ready', () => { ready.resolve() })

  const close = async (): Promise<void> => {
    closing ??= (async () => {
      clearTimeout(timer)
      ready.resolve()
      await watcher.close()
    })()
    await closing
  }
  return {
    ready: ready.promise,
    close,
    [Symbol.asyncDispose]: close
  }
}

function explained (err: unknown): Error {
  const error = err instanceof Error ? err : new Error(String(err))
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ENOSPC' || code === 'EMFILE') {
    return new Error(`cannot watch every directory for changes: the system's limit of watches or open files is reached (${code}); raise it (on Linux: sysctl fs.inotify.max_user_watches=524288). Until then changes are found by the periodic rescan`, { cause: error })
  }
  return error
}
