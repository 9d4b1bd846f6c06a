import { describe, expect, it } from 'vitest'
import { noticesBetween } from '../src/electron/notifications.ts'
import { iconBitmap, iconMask, TRAY_STATES } from '../src/electron/tray-icons.ts'
import { trayState } from '../src/electron/tray-state.ts'
import { uiStatus } from './ui-status-fixture.ts'

describe('the tray state', () => {
  it('is offline without an agent, or when no member of a shared folder is reachable', () => {
    expect(trayState(undefined).state).toBe('offline')
    const alone = uiStatus([{}], { peers: [] })
    expect(trayState(alone)).toEqual({ state: 'offline', tooltip: 'Aerie: no other device of your folders is reachable' })
  })

  it('says error for a failing folder or a revoked device, before anything else', () => {
    expect(trayState(uiStatus([{ state: 'syncing' }, { state: 'error', error: 'disk full', label: 'Photos' }]))).toEqual({ state: 'error', tooltip: 'Aerie: "Photos" cannot sync: disk full' })
    expect(trayState(uiStatus([{}], { revoked: true })).state).toBe('error')
  })

  it('says paused while a folder waits for the person to confirm deletions', () => {
    expect(trayState(uiStatus([{ state: 'needs-confirmation', label: 'Docs' }, { state: 'syncing' }]))).toEqual({ state: 'paused', tooltip: 'Aerie: "Docs" paused, waiting for you to confirm deletions' })
    // Paused by the person: the tray says so when every folder is; otherwise the others speak.
    expect(trayState(uiStatus([{ state: 'paused', label: 'Docs' }])).state).toBe('paused')
    expect(trayState(uiStatus([{ state: 'paused', label: 'Docs' }, { state: 'syncing' }])).state).toBe('syncing')
  })

  it('says syncing while scanning, pulling or behind, with what is left', () => {
    expect(trayState(uiStatus([{ state: 'syncing', inSync: false, needFiles: 12 }, {}]))).toEqual({ state: 'syncing', tooltip: 'Aerie: syncing "Folder 0", 12 items to go' })
    expect(trayState(uiStatus([{ state: 'scanning' }])).state).toBe('syncing')
  })

  it('says in sync otherwise, with conflicts to resolve in the tooltip', () => {
    expect(trayState(uiStatus([{}, { conflicts: 2 }]))).toEqual({ state: 'in-sync', tooltip: 'Aerie: up to date (2 folders), 2 conflicts to resolve' })
    expect(trayState(uiStatus([], { peers: [] }))).toEqual({ state: 'in-sync', tooltip: 'Aerie: no folders yet' })
  })
})

describe('the tray icons', () => {
  it('give every state its own shape, not only its own colour', () => {
    const shapes = TRAY_STATES.map(state => iconMask(state).join(''))
    expect(new Set(shapes).size).toBe(TRAY_STATES.length)
    for (const state of TRAY_STATES) expect(iconMask(state).every(row => row.length === 16)).toBe(true)
  })

  it('scale up for high-DPI trays without changing the shape', () => {
    const small = iconBitmap('error', 1)
    const large = iconBitmap('error', 2)
    expect(large.length).toBe(small.length * 4)
    // Pixel (x, y) at 1x is pixels (2x..2x+1, 2y..2y+1) at 2x.
    for (const [x, y] of [[1, 1], [7, 7], [0, 0], [14, 1]] as const) {
      expect(large[((2 * y) * 32 + 2 * x) * 4 + 3]).toBe(small[(y * 16 + x) * 4 + 3])
    }
  })
})

describe('desktop notifications', () => {
  it('tell of new conflicts, a failing folder and one waiting for the person, once each', () => {
    const before = uiStatus([{ label: 'Docs' }, { label: 'Photos' }])
    const after = uiStatus([{ label: 'Docs', conflicts: 2 }, { label: 'Photos', state: 'error', error: 'disk full' }])
    expect(noticesBetween(before, after)).toEqual([
      { title: '2 conflicts in "Docs"', body: 'Two devices changed the same file. Both versions are kept: open Aerie to choose.' },
      { title: '"Photos" cannot sync', body: 'disk full' }
    ])
    expect(noticesBetween(after, after)).toEqual([])
    const resolved = uiStatus([{ label: 'Docs', conflicts: 0 }, { label: 'Photos', state: 'needs-confirmation' }])
    expect(noticesBetween(after, resolved).map(n => n.title)).toEqual(['"Photos" is waiting for you'])
  })

  it('tell once that the device was revoked', () => {
    const revoked = uiStatus([], { revoked: true })
    expect(noticesBetween(uiStatus(), revoked).map(n => n.title)).toEqual(['This device was revoked'])
    expect(noticesBetween(revoked, revoked)).toEqual([])
  })
})
