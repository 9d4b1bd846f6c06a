/**
 * How to run `node ARGS` on a small disk of its own: a tmpfs of `bytes` at `dir` (made if
 * missing) in a mount namespace that only this process and those that join it see (`unshare`,
 * as root). unshare and `sh -c exec` replace themselves, so the pid spawned is node's.
 */
export function onSmallDisk (disk: { dir: string, bytes: number }, args: string[]): [string, string[]] {
  return ['unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mkdir -p "$2" && mount -t tmpfs -o "size=$1" tmpfs "$2" && shift 2 && exec "$@"',
    'sh', String(disk.bytes), disk.dir, process.execPath, ...args]]
}
