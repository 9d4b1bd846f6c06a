import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { InvalidInputError } from '../../src/errors.ts'
import { IGNORE_FILE, loadIgnoreRules, NO_IGNORE_FILE } from '../../src/scan/index.ts'
import { useTempFolder } from './fixtures.ts'

// `.aerieignore` (gitignore syntax) decides what is never scanned or synced; Aerie's own
// files are never scanned whatever it says.
describe('ignore rules', () => {
  const folder = useTempFolder()
  const rulesWith = async (text: string) => {
    await writeFile(join(folder.root, IGNORE_FILE), text)
    return await loadIgnoreRules(folder.root)
  }

  it('follow gitignore patterns: globs, negation, directory-only, anchored and nested', async () => {
    const rules = await rulesWith('# build output\n*.log\n!keep.log\nbuild/\n/top.txt\ndocs/**/draft*\n')
    const cases: Array<[string, boolean, boolean]> = [
      ['a.log', false, true], ['sub/deep/b.log', false, true], ['keep.log', false, false], ['sub/keep.log', false, false],
      ['build', true, true], ['build', false, false], ['src/build', true, true], ['build/out.js', false, true],
      ['top.txt', false, true], ['sub/top.txt', false, false],
      ['docs/a/b/draft1.md', false, true], ['docs/final.md', false, false], ['A.LOG', false, false], ['readme', false, false]
    ]
    for (const [path, isDir, ignored] of cases) expect([path, isDir, rules.ignores(path, isDir)]).toEqual([path, isDir, ignored])
  })

  it('always skip the marker, temporary files and the version history, whatever the file says', async () => {
    for (const rules of [await loadIgnoreRules(folder.root), await rulesWith('!.aerie-folder\n!.aerie-versions/\n!.aerie-tmp-*\n')]) {
      expect(rules.ignores('.aerie-folder', false)).toBe(true)
      expect(rules.ignores('.aerie-tmp-x1', false)).toBe(true)
      expect(rules.ignores('a/b/.aerie-tmp-x1', false)).toBe(true)
      expect(rules.ignores('.aerie-versions', true)).toBe(true)
      expect(rules.ignores('.aerie-versions/a/doc~20261122-101500.txt', false)).toBe(true)
      // Only at the root are these Aerie's.
      expect(rules.ignores('a/.aerie-folder', false)).toBe(false)
      expect(rules.ignores('a/.aerie-versions', true)).toBe(false)
    }
  })

  it('without .aerieignore ignore nothing else, and the file itself is synced unless it lists itself', async () => {
    expect(await loadIgnoreRules(folder.root)).toBe(NO_IGNORE_FILE)
    expect(NO_IGNORE_FILE.ignores('anything.log', false)).toBe(false)
    expect((await rulesWith('*.log\n')).ignores(IGNORE_FILE, false)).toBe(false)
    expect((await rulesWith('*.log\n.aerieignore\n')).ignores(IGNORE_FILE, false)).toBe(true)
  })

  it('are read again only when .aerieignore changed', async () => {
    const first = await rulesWith('*.log\n')
    expect(await loadIgnoreRules(folder.root, first)).toBe(first)
    await writeFile(join(folder.root, IGNORE_FILE), '*.tmp\n')
    const second = await loadIgnoreRules(folder.root, first)
    expect(second).not.toBe(first)
    expect(second.ignores('a.log', false)).toBe(false)
    expect(second.ignores('a.tmp', false)).toBe(true)
    await rm(join(folder.root, IGNORE_FILE))
    expect(await loadIgnoreRules(folder.root, second)).toBe(NO_IGNORE_FILE)
  })

  it('refuse an .aerieignore that cannot be used, saying which file and what to do', async () => {
    const file = join(folder.root, IGNORE_FILE)
    for (const [content, why] of [[Buffer.from([0xff, 0xfe, 0x2a, 0x00]), 'not UTF-8'], ['*.log\n\0\n', 'NUL']] as const) {
      await writeFile(file, content)
      const err = await loadIgnoreRules(folder.root).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(InvalidInputError)
      expect((err as InvalidInputError).code).toBe('ERR_INVALID_INPUT')
      expect((err as Error).message).toContain(file)
      expect((err as Error).message).toContain(why)
      expect((err as Error).message).toContain('Fix or remove it')
    }
    await rm(file)
    await mkdir(file)
    await expect(loadIgnoreRules(folder.root)).rejects.toThrow(/not a file/)
  })

  it('make the scanner refuse to scan (record nothing) while .aerieignore cannot be used', async () => {
    await folder.write('secret.key')
    await folder.write(IGNORE_FILE, Buffer.from([0xff, 0xfe, 0xfd]))
    await expect(folder.scan()).rejects.toBeInstanceOf(InvalidInputError)
    expect(folder.local('secret.key')).toBeUndefined()
  })
})

describe('the scanner with ignore rules', () => {
  const folder = useTempFolder()

  it('records no ignored file and does not descend into an ignored directory', async () => {
    await folder.write(IGNORE_FILE, '*.log\nnode_modules/\n')
    await folder.write('app.js')
    await folder.write('debug.log')
    await folder.write('src/trace.log')
    await folder.write('node_modules/pkg/index.js')
    // A name the index refuses: reported as a problem if the walk went in there.
    await folder.write('node_modules/bad\\name')
    await folder.write('.aerie-tmp-partial')
    await folder.write('.aerie-versions/app~20261122-101500.js')

    const result = await folder.scan()
    expect(result.problems).toEqual([])
    expect(folder.local('app.js')?.deleted).toBe(false)
    expect(folder.local(IGNORE_FILE)?.deleted).toBe(false)
    for (const path of ['debug.log', 'src/trace.log', 'node_modules', 'node_modules/pkg/index.js', '.aerie-tmp-partial', '.aerie-versions', '.aerie-versions/app~20261122-101500.js']) {
      expect([path, folder.local(path)]).toEqual([path, undefined])
    }
    expect(result.files).toBe(3) // app.js, .aerieignore and src
  })

  it('does not delete a recorded path that becomes ignored: it is only no longer synced', async () => {
    await folder.write('notes.txt')
    await folder.write('cache/a.bin')
    await folder.write('cache/b.bin')
    const first = await folder.scan()
    await folder.write(IGNORE_FILE, 'notes.txt\ncache/\n')
    const second = await folder.scan({ ignoreRules: first.ignoreRules })
    expect(second.deleted).toBe(0)
    for (const path of ['notes.txt', 'cache', 'cache/a.bin', 'cache/b.bin']) expect([path, folder.local(path)?.deleted]).toEqual([path, false])
  })

  it('records what new rules no longer ignore, even when asked to scan only .aerieignore', async () => {
    await folder.write(IGNORE_FILE, '*.tmp\n')
    await folder.write('work.tmp')
    const first = await folder.scan()
    expect(folder.local('work.tmp')).toBeUndefined()
    await folder.write(IGNORE_FILE, '# nothing\n')
    const second = await folder.scan({ ignoreRules: first.ignoreRules, paths: [IGNORE_FILE] })
    expect(second.scoped).toBe(false)
    expect(second.ignoreRules).not.toBe(first.ignoreRules)
    expect(folder.local('work.tmp')?.deleted).toBe(false)
  })
})
