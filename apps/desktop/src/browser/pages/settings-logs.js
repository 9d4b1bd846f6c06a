import { api } from '../api.js'
import { field, fill, h } from '../dom.js'

// Settings → Log: the agent's recent lines (it keeps the last 2000), newest last, asked for
// every two seconds while the screen is open; a filter, and a button that copies what is shown.

const POLL_MS = 2000
const KEEP = 2000

export function logSection (ctx) {
  let lines = []
  let last = 0
  let timer
  let stopped = false
  const view = h('div', { class: 'log-view', role: 'log', 'aria-label': 'Agent log, newest last', tabindex: '0' })
  const filter = h('input', { type: 'search', id: 'log-filter', autocomplete: 'off' })
  const count = h('p', { class: 'hint', 'aria-live': 'polite' })
  const copy = h('button', { type: 'button', class: 'secondary' }, 'Copy log')

  function shown () {
    const needle = filter.value.trim().toLowerCase()
    return needle === '' ? lines : lines.filter(line => line.text.toLowerCase().includes(needle))
  }

  function draw () {
    const atBottom = view.scrollTop + view.clientHeight >= view.scrollHeight - 4
    const visible = shown()
    fill(view, visible.length === 0 ? h('p', {}, lines.length === 0 ? 'Nothing logged yet.' : 'No line matches the filter.') : visible.map(line => h('p', {}, h('time', { datetime: line.at }, line.at), ' ', line.text)))
    count.textContent = filter.value.trim() === '' ? `${lines.length} lines` : `${visible.length} of ${lines.length} lines match`
    // Follow new lines, unless the reader has scrolled up to read.
    if (atBottom) view.scrollTop = view.scrollHeight
  }

  async function poll () {
    try {
      const { lines: fresh } = await api('GET', `/logs?after=${last}`)
      if (fresh.length > 0) {
        lines = lines.concat(fresh).slice(-KEEP)
        last = fresh[fresh.length - 1].seq
        draw()
      } else if (last === 0) draw()
    } catch {
      // The connection banner says when the agent is gone; the next poll tries again.
    }
    if (!stopped) timer = setTimeout(poll, POLL_MS)
  }

  filter.addEventListener('input', draw)
  copy.addEventListener('click', async () => {
    const text = shown().map(line => `${line.at} ${line.text}`).join('\n')
    try {
      await navigator.clipboard.writeText(text)
      ctx.toast(`Copied ${shown().length} log lines to the clipboard`)
    } catch {
      // Without clipboard permission: select the lines, so Ctrl+C copies them.
      getSelection().selectAllChildren(view)
      ctx.toast('Clipboard not allowed: the lines are selected, copy them with Ctrl+C')
    }
  })
  poll()

  return {
    el: h('section', { 'aria-labelledby': 'log-title' },
      h('h2', { id: 'log-title' }, 'Log'),
      field('Show only lines containing', filter),
      h('div', { class: 'actions' }, copy), count, view),
    dispose () { stopped = true; clearTimeout(timer) }
  }
}
