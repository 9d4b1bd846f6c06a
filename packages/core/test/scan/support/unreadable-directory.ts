import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { openFolderIndex } from '../../../src/index/index.ts'
import { scanFolder, writeFolderMarker } from '../../../src/scan/index.ts'

/**
 * Run by unreadable-directory.test.ts as a user other than root (root reads any directory):
 * scans a folder with a directory it cannot list, whole and scoped, and prints what each
 * scan recorded as JSON.
 */
const dir = process.argv[2]!
const root = join(dir, 'folder')
await mkdir(join(root, 'private'), { recursive: true })
await writeFolderMarker(root, 'f1')
await writeFile(join(root, 'private', 'a.txt'), 'a')
using index = openFolderIndex(join(dir, 'index.db'), 'devicea')
await scanFolder({ folderId: 'f1', root, index })
await chmod(join(root, 'private'), 0o000)
const scans = []
try {
  for (const paths of [undefined, ['private'], ['private/a.txt']]) {
    const result = await scanFolder({ folderId: 'f1', root, index, ...(paths === undefined ? {} : { paths }) })
    scans.push({ deleted: result.deleted, problems: result.problems.length })
  }
} finally {
  await chmod(join(root, 'private'), 0o755)
}
console.log(JSON.stringify({ scans, stillThere: index.getLocal('f1', 'private/a.txt')?.deleted === false }))
