/**
 * The public share pages' HTML: built on the server from escaped text, styled by the console's
 * stylesheet, with no inline script or style (the CSP forbids both) and nothing loaded from
 * another origin. Only the file-drop page loads a script (/share-drop.js), without the token.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function esc (value: string | number): string {
  return String(value).replace(/[&<>"']/g, c => ESCAPES[c]!)
}

/** Markup made by this module (already escaped) as opposed to text. */
export interface Html { html: string }
const raw = (html: string): Html => ({ html })

/** A tagged template: interpolated strings are escaped, Html and arrays of Html are not. */
export function html (strings: TemplateStringsArray, ...values: Array<string | number | Html | Html[] | undefined | false>): Html {
  let out = strings[0]!
  values.forEach((value, i) => {
    if (value === undefined || value === false) out += ''
    else if (Array.isArray(value)) out += value.map(v => v.html).join('')
    else if (typeof value === 'object') out += value.html
    else out += esc(value)
    out += strings[i + 1]!
  })
  return raw(out)
}

export function page (title: string, body: Html, options: { script?: string } = {}): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <meta name="robots" content="noindex, nofollow">
  <title>${esc(title)} · Aerie</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/app.css">
  ${options.script === undefined ? '' : `<script type="module" src="${esc(options.script)}"></script>`}
</head>
<body>
  <header class="top-bar"><div class="top-bar-inner"><span class="brand"><span class="brand-mark" aria-hidden="true">▲</span> Aerie <span class="brand-org">shared with you</span></span></div></header>
  <main id="main" class="share-page">
${body.html}
  </main>
</body>
</html>
`
}

/** A status in words and an icon, never by colour alone (as the console's dom.js status()). */
export function status (kind: 'ok' | 'bad' | 'warn' | 'info', text: string): Html {
  const icons = { ok: '✓', bad: '✕', warn: '!', info: 'i' }
  return html`<span class="status status-${kind}"><span class="status-icon" aria-hidden="true">${icons[kind]}</span> ${text}</span>`
}

export function bytes (n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB']
  let value = n
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit++ }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`
}

export function time (at: Date): Html {
  const text = at.toISOString().replace('T', ' ').replace(/:\d\d\.\d{3}Z$/, ' UTC')
  return html`<time datetime="${at.toISOString()}">${text}</time>`
}

/** A page that says something went wrong and what to do. */
export function messagePage (title: string, kind: 'bad' | 'warn' | 'info', message: string, next?: string): string {
  return page(title, html`<section class="panel narrow" aria-labelledby="title">
    <h1 id="title">${title}</h1>
    <p role="alert">${status(kind, message)}</p>
    ${next === undefined ? undefined : html`<p>${next}</p>`}
  </section>`)
}

export function passwordPage (name: string, action: string, error?: string): string {
  return page(`${name}: password`, html`<section class="panel narrow" aria-labelledby="title">
    <h1 id="title">This link needs a password</h1>
    <p>Someone shared <strong class="wrap">${name}</strong> with you. Type the password they gave you.</p>
    <form method="post" action="${action}" id="unlock-form">
      <div class="field"><label for="share-password">Password</label>
        <input id="share-password" name="password" type="password" autocomplete="off" required maxlength="1024" autofocus${error === undefined ? '' : ' aria-describedby="unlock-error" aria-invalid="true"'}></div>
      ${error === undefined ? undefined : html`<p class="form-error" role="alert" id="unlock-error"><span aria-hidden="true">✕ </span>${error}</p>`}
      <div class="actions"><button type="submit">Open</button></div>
    </form>
  </section>`)
}
