/**
 * Names that are fine here but cannot exist on another OS a member may run. Such a file still
 * syncs between devices that can hold it; the scanner reports it per file so the user can
 * rename it before a Windows (or macOS, for case) member needs it.
 */
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i
// < > : " | ? * and control characters are refused by Windows in any name.
const FORBIDDEN = /[<>:"|?*\u0000-\u001f]/

/** Why `path` cannot exist on Windows, or undefined when it can. */
export function portabilityProblem (path: string): string | undefined {
  for (const name of path.split('/')) {
    if (RESERVED.test(name)) return `"${name}" is a reserved name on Windows`
    const bad = FORBIDDEN.exec(name)
    if (bad !== null) return `"${name}" contains ${JSON.stringify(bad[0])}, which Windows does not allow in names`
    if (/[. ]$/.test(name)) return `"${name}" ends with a dot or a space, which Windows drops`
  }
  return undefined
}

/** Paths that differ only in letter case: one of them is lost on Windows and (by default) macOS. */
export class CaseClashes {
  private readonly byFolded = new Map<string, string>()

  /** The path this one clashes with, if any. */
  add (path: string): string | undefined {
    const folded = path.toLowerCase()
    const other = this.byFolded.get(folded)
    if (other !== undefined && other !== path) return other
    this.byFolded.set(folded, path)
    return undefined
  }
}
