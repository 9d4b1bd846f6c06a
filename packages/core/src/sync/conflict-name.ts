/**
 * The name a losing concurrent version is kept under, beside the winner:
 * `NAME.sync-conflict-YYYYMMDD-HHMMSS-DEVICE.EXT` (like Syncthing), with the loser's mtime in
 * UTC and the first 7 characters of the device that wrote it. The copy is an ordinary new
 * file, so it syncs to every member.
 */
export const CONFLICT_MARK = '.sync-conflict-'

export function conflictName (path: string, mtimeMs: number, deviceId: string): string {
  const slash = path.lastIndexOf('/')
  const dir = path.slice(0, slash + 1)
  const name = path.slice(slash + 1)
  // '.bashrc' has no extension; 'archive.tar.gz' keeps '.gz' as its extension.
  const dot = name.lastIndexOf('.')
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, '']
  const time = new Date(mtimeMs).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
  return `${dir}${stem}${CONFLICT_MARK}${time}-${deviceId.slice(0, 7)}${ext}`
}
