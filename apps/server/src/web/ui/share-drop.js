// The file-drop page of an upload-only share link: sends each chosen file as the raw body of a
// POST (its name percent-encoded in X-File-Name) and says, per file, in words, how it went.

const form = document.getElementById('drop-form')
const input = document.getElementById('drop-files')
const results = document.getElementById('drop-results')
const maxBytes = Number(form.dataset.maxBytes)

function line (kind, text) {
  const icons = { ok: '✓', bad: '✕', info: '…' }
  const li = document.createElement('li')
  const status = document.createElement('span')
  status.className = `status status-${kind === 'info' ? 'off' : kind}`
  const icon = document.createElement('span')
  icon.className = 'status-icon'
  icon.setAttribute('aria-hidden', 'true')
  icon.textContent = icons[kind]
  status.append(icon, ' ', text)
  li.append(status)
  return li
}

async function send (file) {
  const item = line('info', `Sending ${file.name}…`)
  results.append(item)
  if (file.size > maxBytes) {
    item.replaceWith(line('bad', `${file.name} is larger than this link takes; it was not sent.`))
    return
  }
  try {
    const response = await fetch(form.dataset.uploadUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'x-file-name': encodeURIComponent(file.name), accept: 'application/json' },
      body: file,
      credentials: 'same-origin'
    })
    const data = await response.json().catch(() => ({}))
    if (!response.ok) throw new Error(data.error?.message ?? `the server answered ${response.status}`)
    item.replaceWith(line('ok', data.name === file.name ? `Sent ${file.name}.` : `Sent ${file.name} (saved as ${data.name}).`))
  } catch (err) {
    item.replaceWith(line('bad', `${file.name} was not sent: ${err.message}`))
  }
}

form.addEventListener('submit', async event => {
  event.preventDefault()
  const button = form.querySelector('button')
  button.disabled = true
  try {
    for (const file of input.files) await send(file)
  } finally {
    button.disabled = false
    form.reset()
  }
})
