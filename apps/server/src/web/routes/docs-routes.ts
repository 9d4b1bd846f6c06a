import type { FastifyPluginAsync } from 'fastify'

// Just enough escaping for text and attribute values in the generated page.
const escape = (text: string): string => text.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`)

interface OpenApiOperation { summary?: string, tags?: string[] }

/** The OpenAPI document, generated from the route schemas, and a plain page listing the operations. */
export function docsRoutes (): FastifyPluginAsync {
  return async app => {
    app.get('/api/openapi.json', {
      config: { access: 'public' },
      schema: { hide: true, response: { 200: { type: 'object', additionalProperties: true } } }
    }, async () => app.swagger())

    app.get('/api/docs', {
      config: { access: 'public' },
      schema: { hide: true, response: { 200: { type: 'string' } } }
    }, async (_request, reply) => {
      const doc = app.swagger() as { paths?: Record<string, Record<string, OpenApiOperation>> }
      const rows: string[] = []
      for (const [path, operations] of Object.entries(doc.paths ?? {})) {
        for (const [method, operation] of Object.entries(operations)) {
          rows.push(`<tr><td><code>${escape(method.toUpperCase())}</code></td><td><code>${escape(path)}</code></td><td>${escape(operation.summary ?? '')}</td></tr>`)
        }
      }
      return reply.type('text/html; charset=utf-8').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Aerie admin API</title><link rel="stylesheet" href="/app.css"></head>
<body><main class="docs"><h1>Aerie admin API</h1>
<p>The machine-readable description is <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3).
Errors are always <code>{ "error": { "code", "message" } }</code>. Authenticate with the session cookie
(plus <code>X-CSRF-Token</code> on changes) or <code>Authorization: Bearer</code> and an API token.</p>
<table><thead><tr><th scope="col">Method</th><th scope="col">Path</th><th scope="col">What it does</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></main></body></html>`)
    })
  }
}
