import { api, ApiError, liveStatus, login, takeSecretFromUrl } from './api.js'
import { h } from './dom.js'
import * as backup from './pages/backup.js'
import * as dashboard from './pages/dashboard.js'
import * as enroll from './pages/enroll.js'
import * as folder from './pages/folder.js'
import * as settings from './pages/settings.js'
import * as share from './pages/share.js'

// One page: the hash names the screen (#/, #/folder/ID, #/share, #/backup, #/settings). The agent pushes its
// status (server-sent events); the screen shown gets each one through `update`, and
// changes only what changed, so focus and typing are never lost to a refresh.

const PAGES = { dashboard, folder, settings, share, backup }
const main = document.getElementById('main')
const state = { status: undefined, page: undefined, view: undefined }

function toast (message) {
  const el = document.getElementById('toast')
  el.textContent = message
  el.classList.add('visible')
  clearTimeout(toast.timer)
  toast.timer = setTimeout(() => el.classList.remove('visible'), 6000)
}

function parseHash () {
  const [name = '', ...rest] = location.hash.replace(/^#\/?/, '').split('/')
  try {
    return { name: name || 'dashboard', detail: rest.filter(s => s !== '').map(decodeURIComponent) }
  } catch {
    return { name: 'dashboard', detail: [] }
  }
}

function renderChrome () {
  const { name } = parseHash()
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.dataset.page === name) link.setAttribute('aria-current', 'page')
    else link.removeAttribute('aria-current')
  }
  const s = state.status
  document.getElementById('who').replaceChildren(s ? h('span', { class: 'who-name' }, s.deviceName, h('span', { class: 'who-id' }, ` · ${s.deviceId}`)) : '')
}

async function route (event) {
  const { name, detail } = parseHash()
  const page = PAGES[name] ?? dashboard
  state.view?.dispose?.()
  state.page = page
  renderChrome()
  const ctx = { toast, status: () => state.status, api, go: (hash) => { location.hash = hash } }
  main.replaceChildren()
  state.view = page.render(main, ctx, detail)
  document.title = `${state.view.title ?? 'Aerie'} · Aerie`
  if (state.status) state.view.update?.(state.status)
  // After a move (not on the first page), a screen reader starts at the new screen.
  if (event !== undefined) main.focus({ preventScroll: true })
}

function showConnection (connected) {
  const banner = document.getElementById('connection')
  banner.hidden = connected
  if (!connected) banner.replaceChildren(h('span', { 'aria-hidden': 'true' }, '! '), 'Lost contact with the agent; trying again…')
}

/** The agent restarts on the same port once enrolled: wait for it (bounded; a reload retries). */
async function untilEnrolled () {
  for (let i = 0; i < 120; i++) {
    const status = await api('GET', '/status').catch(() => undefined)
    if (status !== undefined && status.enrolled !== false) return status
    await new Promise(resolve => setTimeout(resolve, 500))
  }
  throw new Error('the agent did not start after enrolling; see its log, and reload this page')
}

async function start () {
  takeSecretFromUrl()
  try {
    await login()
  } catch (err) {
    main.replaceChildren(h('div', { class: 'card' },
      h('h1', {}, 'Open Aerie with its link'),
      h('p', {}, err instanceof ApiError && err.status === 401
        ? 'This page needs the link that carries the UI secret. In a terminal, run `aerie ui` and open the link it prints.'
        : err.message)))
    return
  }
  state.status = await api('GET', '/status')
  if (state.status.enrolled === false) {
    // First run: nothing but the Enroll screen until the agent starts for real.
    document.getElementById('nav').hidden = true
    main.replaceChildren()
    await new Promise(resolve => { enroll.render(main, { toast }, resolve) })
    state.status = await untilEnrolled()
    document.getElementById('nav').hidden = false
    location.hash = '#/'
  }
  window.addEventListener('hashchange', route)
  await route()
  liveStatus(status => {
    state.status = status
    renderChrome()
    state.view?.update?.(status)
  }, showConnection)
}

start()
